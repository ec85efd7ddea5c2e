import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { ApiError, errorMessage } from '../services/api-error.js';
import type { Me, Membership } from '../services/api-types.js';
import { useServices } from '../services/container.js';

export const ORG_STORAGE_KEY = 'peerfetch.org';

export type AuthStatus = 'unknown' | 'signed-out' | 'signed-in';

export const useAuthStore = defineStore('auth', () => {
  const { api, platform } = useServices();
  const me = ref<Me | null>(null);
  const status = ref<AuthStatus>('unknown');
  const orgId = ref<string | null>(null);
  const signingIn = ref(false);
  const error = ref<string | null>(null);

  const user = computed(() => me.value?.user ?? null);
  const memberships = computed<Membership[]>(() => me.value?.memberships ?? []);
  const currentOrg = computed(() => memberships.value.find((m) => m.orgId === orgId.value) ?? null);
  const canAdmin = computed(
    () => currentOrg.value?.role === 'owner' || currentOrg.value?.role === 'admin',
  );

  function accept(value: Me | null) {
    me.value = value;
    status.value = value ? 'signed-in' : 'signed-out';
    if (!value) {
      orgId.value = null;
      return;
    }
    const stored = platform.storage.get(ORG_STORAGE_KEY);
    const pick = value.memberships.find((m) => m.orgId === stored) ?? value.memberships[0] ?? null;
    orgId.value = pick?.orgId ?? null;
  }

  let restoring: Promise<void> | null = null;
  /** Learns whether a session exists (once; later calls share the first answer). */
  function restore(): Promise<void> {
    restoring ??= api.me().then(accept, (e: unknown) => {
      restoring = null;
      error.value = errorMessage(e);
      status.value = 'signed-out';
    });
    return restoring;
  }

  async function signIn(email: string, password: string): Promise<boolean> {
    signingIn.value = true;
    error.value = null;
    try {
      accept(await api.login(email.trim(), password));
      restoring = Promise.resolve();
      return true;
    } catch (e) {
      error.value =
        e instanceof ApiError && e.status === 401 ? 'Email or password is wrong.' : errorMessage(e);
      return false;
    } finally {
      signingIn.value = false;
    }
  }

  async function signOut(): Promise<void> {
    try {
      await api.logout();
    } finally {
      accept(null);
      restoring = Promise.resolve();
    }
  }

  /** The session expired or was revoked elsewhere. */
  function sessionExpired(): void {
    accept(null);
    restoring = Promise.resolve();
    error.value = 'Your session ended. Sign in again.';
  }

  function switchOrg(id: string): void {
    if (!memberships.value.some((m) => m.orgId === id)) {
      throw new Error(`switchOrg: not a member of ${id}`);
    }
    orgId.value = id;
    platform.storage.set(ORG_STORAGE_KEY, id);
  }

  return {
    me,
    status,
    orgId,
    signingIn,
    error,
    user,
    memberships,
    currentOrg,
    canAdmin,
    restore,
    signIn,
    signOut,
    sessionExpired,
    switchOrg,
  };
});
