import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { useTask } from '../composables/useTask.js';
import type { Device, DeviceStatus } from '../services/api-types.js';
import { useServices } from '../services/container.js';
import type { PresenceUpdate } from '../services/presence.js';
import { useAuthStore } from './auth.js';

export type StatusFilter = 'all' | DeviceStatus | 'revoked';
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

export function normalizeTag(raw: string): string {
  return raw.trim().toLowerCase().replace(/\s+/g, '-');
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
  const onlineCount = computed(
    () => devices.value.filter((d) => d.status === 'online' && d.revokedAt === null).length,
  );

  const visible = computed(() => {
    const q = filters.value.search.trim().toLowerCase();
    const { tags, status } = filters.value;
    const rows = devices.value.filter((d) => {
      if (status === 'revoked' && d.revokedAt === null) return false;
      if (
        (status === 'online' || status === 'offline') &&
        (d.status !== status || d.revokedAt !== null)
      ) {
        return false;
      }
      if (!tags.every((t) => d.tags.includes(t))) return false;
      if (!q) return true;
      return (
        d.name.toLowerCase().includes(q) ||
        d.id.toLowerCase().startsWith(q) ||
        d.tags.some((t) => t.includes(q))
      );
    });
    const dir = sort.value.dir === 'asc' ? 1 : -1;
    const compare = {
      name: byName,
      status: (a: Device, b: Device) =>
        (a.status === b.status ? 0 : a.status === 'online' ? -1 : 1) || byName(a, b),
      lastSeen: (a: Device, b: Device) => (a.lastSeenAt ?? 0) - (b.lastSeenAt ?? 0) || byName(a, b),
    }[sort.value.key];
    return [...rows].sort((a, b) => dir * compare(a, b));
  });

  function requireOrg(): string {
    if (!auth.orgId) throw new Error('No organisation selected');
    return auth.orgId;
  }

  function upsert(device: Device) {
    const i = devices.value.findIndex((d) => d.id === device.id);
    if (i === -1) devices.value.push(device);
    else devices.value.splice(i, 1, device);
  }

  async function load(): Promise<void> {
    const org = auth.orgId;
    if (!org) return;
    const list = await task.run(() => api.listDevices(org));
    if (list && auth.orgId === org) {
      devices.value = list;
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
    const device = await api.getDevice(requireOrg(), id);
    upsert(device);
    return device;
  }

  async function rename(id: string, name: string): Promise<Device> {
    const device = await api.renameDevice(requireOrg(), id, name.trim());
    upsert(device);
    return device;
  }

  async function setTags(id: string, tags: string[]): Promise<Device> {
    const clean = [...new Set(tags.map(normalizeTag).filter(Boolean))].sort();
    const device = await api.setDeviceTags(requireOrg(), id, clean);
    upsert(device);
    return device;
  }

  async function revoke(id: string): Promise<Device> {
    const device = await api.revokeDevice(requireOrg(), id);
    upsert(device);
    return device;
  }

  async function remove(id: string): Promise<void> {
    await api.deleteDevice(requireOrg(), id);
    devices.value = devices.value.filter((d) => d.id !== id);
    selected.value.delete(id);
  }

  /** Adds and removes tags on many devices; reports per-device failures. */
  async function bulkTag(
    ids: string[],
    add: string[],
    removeTags: string[] = [],
  ): Promise<BulkResult> {
    const org = requireOrg();
    const plus = add.map(normalizeTag).filter(Boolean);
    const minus = new Set(removeTags.map(normalizeTag));
    const results = await Promise.allSettled(
      ids.map(async (id) => {
        const current = byId(id);
        if (!current) throw new Error('Device is no longer listed');
        const tags = [...new Set([...current.tags.filter((t) => !minus.has(t)), ...plus])].sort();
        upsert(await api.setDeviceTags(org, id, tags));
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

  /** Applies a presence update unless it is older than what we know. */
  function applyPresence(update: PresenceUpdate) {
    const device = byId(update.deviceId);
    if (!device || device.revokedAt !== null) return;
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

  return {
    devices,
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
