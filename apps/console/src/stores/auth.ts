import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { ApiError, errorMessage } from '../services/api-error.js';
import type { Me, Membership } from '../services/api-types.js';
import { useServices } from '../services/container.js';
import { orgRoleAtLeast } from '../services/roles.js';

export type AuthStatus = 'unknown' | 'signed-out' | 'signed-in';

/**
 * The registrar binds a session to one organisation (`POST /api/auth/login` takes
 * `orgId`), so switching organisation means signing in to it: `switchOrg` asks for the
 * password again rather than relying on an endpoint the registrar does not have.
 */
export const useAuthStore = defineStore('auth', () => {
  const { api } = useServices();
  const me = ref<Me | null>(null);
  const status = ref<AuthStatus>('unknown');
  const busy = ref(false);
  const error = ref<string | null>(null);

  const user = computed(() => me.value?.user ?? null);
  const orgId = computed(() => me.value?.orgId ?? null);
  const memberships = computed<Membership[]>(() => me.value?.memberships ?? []);
  const currentOrg = computed(() => memberships.value.find((m) => m.orgId === orgId.value) ?? null);
  const role = computed(() => me.value?.role ?? null);
  const canAdmin = computed(() => role.value !== null && orgRoleAtLeast(role.value, 'admin'));

  function accept(value: Me | null) {
    me.value = value;
    status.value = value ? 'signed-in' : 'signed-out';
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

  async function login(email: string, password: string, org?: string): Promise<boolean> {
    busy.value = true;
    error.value = null;
    try {
      accept(await api.login(email.trim(), password, org));
      restoring = Promise.resolve();
      return true;
    } catch (e) {
      error.value =
        e instanceof ApiError && e.status === 401 ? 'Email or password is wrong.' : errorMessage(e);
      return false;
    } finally {
      busy.value = false;
    }
  }

  /** Signs in to `org`, or to the user's first organisation. */
  const signIn = (email: string, password: string, org?: string) => login(email, password, org);

  /** Signs in to another organisation of the same user (password required). */
  async function switchOrg(id: string, password: string): Promise<boolean> {
    const email = user.value?.email;
    if (!email || !memberships.value.some((m) => m.orgId === id)) {
      error.value = 'You are not a member of that organisation.';
      return false;
    }
    return login(email, password, id);
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

  return {
    me,
    status,
    orgId,
    busy,
    error,
    user,
    role,
    memberships,
    currentOrg,
    canAdmin,
    restore,
    signIn,
    switchOrg,
    signOut,
    sessionExpired,
  };
});
