import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import { useTask } from '../composables/useTask.js';
import type { Device, DeviceStatus } from '../services/api-types.js';
import { useServices } from '../services/container.js';
import type { PresenceUpdate } from '../services/presence.js';
import { useAuthStore } from './auth.js';

export type StatusFilter = 'all' | DeviceStatus;
export type SortKey = 'name' | 'status' | 'lastSeen';

export interface FleetFilters {
  search: string;
  /** A device must carry every selected tag. */
  tags: string[];
  status: StatusFilter;
}

export interface BulkResult {
  updated: number;
  failed: { deviceId: string; message: string }[];
}

const byName = (a: Device, b: Device) => a.name.localeCompare(b.name);
const STATUS_ORDER: Record<DeviceStatus, number> = { online: 0, offline: 1, revoked: 2 };
/** Page size when loading the fleet (the registrar's maximum). */
export const FLEET_PAGE = 500;
/** Fleets larger than this are not loaded whole; the view says so. */
export const FLEET_MAX = 5000;

/** The registrar's tag rule (apps/registrar grants.dto.ts TAG_PATTERN). */
export const TAG_PATTERN = /^[a-z0-9][a-z0-9._:-]{0,62}$/;

/** Lower-cases, turns spaces into dashes and drops characters a tag cannot hold. */
export function normalizeTag(raw: string): string {
  return raw
    .trim()
    .toLowerCase()
    .replace(/\s+/g, '-')
    .replace(/[^a-z0-9._:-]/g, '')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 63);
}

export const useFleetStore = defineStore('fleet', () => {
  const { api, presence } = useServices();
  const auth = useAuthStore();
  const devices = ref<Device[]>([]);
  const loadedOrg = ref<string | null>(null);
  const task = useTask();
  const filters = ref<FleetFilters>({ search: '', tags: [], status: 'all' });
  const sort = ref<{ key: SortKey; dir: 'asc' | 'desc' }>({ key: 'name', dir: 'asc' });
  const selected = ref<Set<string>>(new Set());

  const allTags = computed(() => [...new Set(devices.value.flatMap((d) => d.tags))].sort());
  const total = ref(0);
  const onlineCount = computed(() => devices.value.filter((d) => d.status === 'online').length);

  const visible = computed(() => {
    const q = filters.value.search.trim().toLowerCase();
    const { tags, status } = filters.value;
    const rows = devices.value.filter((d) => {
      if (status !== 'all' && d.status !== status) return false;
      if (!tags.every((t) => d.tags.includes(t))) return false;
      if (!q) return true;
      return (
        d.name.toLowerCase().includes(q) ||
        d.id.toLowerCase().startsWith(q) ||
        d.fingerprint.toLowerCase().startsWith(q) ||
        d.tags.some((t) => t.includes(q))
      );
    });
    const dir = sort.value.dir === 'asc' ? 1 : -1;
    const compare = {
      name: byName,
      status: (a: Device, b: Device) =>
        STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || byName(a, b),
      lastSeen: (a: Device, b: Device) => (a.lastSeenAt ?? 0) - (b.lastSeenAt ?? 0) || byName(a, b),
    }[sort.value.key];
    return [...rows].sort((a, b) => dir * compare(a, b));
  });

  function upsert(device: Device) {
    const i = devices.value.findIndex((d) => d.id === device.id);
    if (i === -1) devices.value.push(device);
    else devices.value.splice(i, 1, device);
  }

  async function load(): Promise<void> {
    const org = auth.orgId;
    if (!org) return;
    const page = await task.run(async () => {
      const first = await api.listDevices({ limit: FLEET_PAGE });
      const items = [...first.items];
      while (items.length < Math.min(first.total, FLEET_MAX)) {
        const next = await api.listDevices({ limit: FLEET_PAGE, offset: items.length });
        if (next.items.length === 0) break;
        items.push(...next.items);
      }
      return { items, total: first.total };
    });
    if (page && auth.orgId === org) {
      const list = page.items;
      devices.value = list;
      total.value = page.total;
      loadedOrg.value = org;
      const ids = new Set(list.map((d) => d.id));
      selected.value = new Set([...selected.value].filter((id) => ids.has(id)));
    }
  }

  function byId(id: string): Device | undefined {
    return devices.value.find((d) => d.id === id);
  }

  /** Fetches one device (detail view); throws ApiError. */
  async function fetchDevice(id: string): Promise<Device> {
    const device = await api.getDevice(id);
    upsert(device);
    return device;
  }

  async function rename(id: string, name: string): Promise<Device> {
    const device = await api.renameDevice(id, name.trim());
    upsert(device);
    return device;
  }

  async function setTags(id: string, tags: string[]): Promise<Device> {
    const clean = [...new Set(tags.map(normalizeTag).filter(Boolean))].sort();
    const device = await api.setDeviceTags(id, clean);
    upsert(device);
    return device;
  }

  async function revoke(id: string): Promise<Device> {
    const device = await api.revokeDevice(id);
    upsert(device);
    return device;
  }

  async function remove(id: string): Promise<void> {
    await api.deleteDevice(id);
    devices.value = devices.value.filter((d) => d.id !== id);
    selected.value.delete(id);
  }

  /** Adds and removes tags on many devices; reports per-device failures. */
  async function bulkTag(
    ids: string[],
    add: string[],
    removeTags: string[] = [],
  ): Promise<BulkResult> {
    const plus = add.map(normalizeTag).filter(Boolean);
    const minus = new Set(removeTags.map(normalizeTag));
    const results = await Promise.allSettled(
      ids.map(async (id) => {
        const current = byId(id);
        if (!current) throw new Error('Device is no longer listed');
        const tags = [...new Set([...current.tags.filter((t) => !minus.has(t)), ...plus])].sort();
        upsert(await api.setDeviceTags(id, tags));
      }),
    );
    const failed = results.flatMap((r, i) =>
      r.status === 'rejected'
        ? [
            {
              deviceId: ids[i] ?? '',
              message: r.reason instanceof Error ? r.reason.message : String(r.reason),
            },
          ]
        : [],
    );
    return { updated: results.length - failed.length, failed };
  }

  function toggleSelected(id: string) {
    const next = new Set(selected.value);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    selected.value = next;
  }

  function selectVisible(on: boolean) {
    selected.value = on ? new Set(visible.value.map((d) => d.id)) : new Set();
  }

  function toggleTagFilter(tag: string) {
    const tags = filters.value.tags;
    filters.value.tags = tags.includes(tag) ? tags.filter((t) => t !== tag) : [...tags, tag];
  }

  function setSort(key: SortKey) {
    sort.value =
      sort.value.key === key
        ? { key, dir: sort.value.dir === 'asc' ? 'desc' : 'asc' }
        : { key, dir: key === 'lastSeen' ? 'desc' : 'asc' };
  }

  const fetching = new Set<string>();
  /**
   * Applies a presence update unless it is older than what we know. A device coming online
   * that we have not listed (it just enrolled) is fetched, so it appears at once.
   */
  function applyPresence(update: PresenceUpdate) {
    const device = byId(update.deviceId);
    if (!device) {
      if (update.status === 'online' && !fetching.has(update.deviceId)) {
        fetching.add(update.deviceId);
        fetchDevice(update.deviceId)
          .catch(() => undefined) // not ours to see after all: nothing to show
          .finally(() => fetching.delete(update.deviceId));
      }
      return;
    }
    if (device.status === 'revoked') return;
    if (device.lastSeenAt !== null && update.ts < device.lastSeenAt) return;
    upsert({ ...device, status: update.status, lastSeenAt: update.ts });
  }

  let stopPresence: (() => void) | null = null;
  /** Follows live presence for the current org until `unwatchPresence()`. */
  function watchPresence() {
    unwatchPresence();
    const org = auth.orgId;
    if (org) stopPresence = presence.subscribe(org, applyPresence);
  }
  function unwatchPresence() {
    stopPresence?.();
    stopPresence = null;
  }

  function clear() {
    devices.value = [];
    total.value = 0;
    loadedOrg.value = null;
    selected.value = new Set();
    filters.value = { search: '', tags: [], status: 'all' };
    task.error.value = null;
  }
  // Another user or organisation must never see this one's data, even for a moment.
  watch(
    () => auth.orgId,
    () => clear(),
  );

  return {
    devices,
    total,
    loadedOrg,
    loading: task.loading,
    error: task.error,
    filters,
    sort,
    selected,
    allTags,
    onlineCount,
    visible,
    load,
    byId,
    fetchDevice,
    rename,
    setTags,
    revoke,
    remove,
    bulkTag,
    toggleSelected,
    selectVisible,
    toggleTagFilter,
    setSort,
    applyPresence,
    watchPresence,
    unwatchPresence,
  };
});
