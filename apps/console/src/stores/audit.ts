import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import { useTask } from '../composables/useTask.js';
import type { AuditEvent, AuditQuery } from '../services/api-types.js';
import { useServices } from '../services/container.js';
import { useAuthStore } from './auth.js';

export type AuditFilters = Pick<AuditQuery, 'action' | 'actorId' | 'targetId' | 'since' | 'until'>;

export const AUDIT_PAGE_SIZE = 20;

/** Actions the registrar records (apps/registrar audit.types.ts AuditAction). */
export const AUDIT_ACTIONS = [
  'auth.login',
  'auth.login_failed',
  'auth.logout',
  'auth.password_change',
  'org.bootstrap',
  'org.settings',
  'session.request',
  'session.refused',
  'session.signal',
  'session.connected',
  'user.create',
  'user.role_change',
  'user.remove',
  'invite.create',
  'invite.revoke',
  'invite.accept',
  'invite.accept_failed',
  'device.enroll',
  'device.enroll_refused',
  'device.rename',
  'device.tag',
  'device.revoke_key',
  'device.delete',
  'device.request',
  'claim_code.create',
  'claim_code.revoke',
  'grant.create',
  'grant.update',
  'grant.delete',
  'group.create',
  'group.rename',
  'group.delete',
  'group.member_add',
  'group.member_remove',
] as const;

/**
 * Keyset pagination, newest first: each page's `nextCursor` is remembered so that
 * "newer" can go back without the registrar supporting reverse cursors.
 */
export const useAuditStore = defineStore('audit', () => {
  const { api } = useServices();
  const auth = useAuthStore();
  const filters = ref<AuditFilters>({});
  const items = ref<AuditEvent[]>([]);
  const cursors = ref<(string | undefined)[]>([undefined]);
  const page = ref(0);
  const nextCursor = ref<string | null>(null);
  const task = useTask();

  const hasNext = computed(() => nextCursor.value !== null);
  const hasPrev = computed(() => page.value > 0);

  async function fetchPage(index: number): Promise<void> {
    if (!auth.orgId) return;
    const cursor = cursors.value[index];
    const query: AuditQuery = { ...filters.value, limit: AUDIT_PAGE_SIZE };
    if (cursor !== undefined) query.cursor = cursor;
    const result = await task.run(() => api.queryAudit(query));
    if (!result) return;
    if (index > 0 && result.items.length === 0) {
      // The previous page ended exactly at the last event.
      nextCursor.value = null;
      return;
    }
    items.value = result.items;
    nextCursor.value = result.nextCursor;
    page.value = index;
    cursors.value = cursors.value.slice(0, index + 1);
    if (result.nextCursor !== null) cursors.value.push(result.nextCursor);
  }

  /** Applies new filters and goes back to the first page. */
  function search(next: AuditFilters = filters.value): Promise<void> {
    const clean: AuditFilters = {};
    for (const [k, v] of Object.entries(next) as [keyof AuditFilters, unknown][]) {
      if (v !== undefined && v !== '' && v !== null) (clean as Record<string, unknown>)[k] = v;
    }
    filters.value = clean;
    cursors.value = [undefined];
    return fetchPage(0);
  }

  const nextPage = () => (hasNext.value ? fetchPage(page.value + 1) : Promise.resolve());
  const prevPage = () => (hasPrev.value ? fetchPage(page.value - 1) : Promise.resolve());

  function clear() {
    items.value = [];
    filters.value = {};
    cursors.value = [undefined];
    page.value = 0;
    nextCursor.value = null;
    task.error.value = null;
  }
  // Another user or organisation must never see this one's data, even for a moment.
  watch(
    () => auth.orgId,
    () => clear(),
  );

  return {
    filters,
    items,
    page,
    hasNext,
    hasPrev,
    loading: task.loading,
    error: task.error,
    search,
    nextPage,
    prevPage,
  };
});
