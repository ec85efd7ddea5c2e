import { defineStore } from 'pinia';
import { ref } from 'vue';
import { useTask } from '../composables/useTask.js';
import type {
  CreateGrantInput,
  CreateInviteInput,
  Device,
  Grant,
  GrantPatch,
  Invite,
  Member,
} from '../services/api-types.js';
import { useServices } from '../services/container.js';
import { useAuthStore } from './auth.js';

export const useAccessStore = defineStore('access', () => {
  const { api } = useServices();
  const auth = useAuthStore();
  const grants = ref<Grant[]>([]);
  const members = ref<Member[]>([]);
  const invites = ref<Invite[]>([]);
  const task = useTask();

  function org(): string {
    if (!auth.orgId) throw new Error('No organisation selected');
    return auth.orgId;
  }

  async function load(): Promise<void> {
    const id = auth.orgId;
    if (!id) return;
    const result = await task.run(() =>
      Promise.all([api.listGrants(id), api.listMembers(id), api.listInvites(id)]),
    );
    if (result) [grants.value, members.value, invites.value] = result;
  }

  /** Grants that apply to a device: direct ones and those on any of its tags. */
  function grantsFor(device: Pick<Device, 'id' | 'tags'>): Grant[] {
    return grants.value.filter((g) =>
      g.target.kind === 'device'
        ? g.target.deviceId === device.id
        : device.tags.includes(g.target.tag),
    );
  }

  function memberLabel(userId: string): string {
    const m = members.value.find((x) => x.userId === userId);
    return m ? m.name || m.email : userId;
  }

  async function createGrant(input: CreateGrantInput): Promise<Grant> {
    const grant = await api.createGrant(org(), input);
    grants.value = [...grants.value, grant];
    return grant;
  }

  async function updateGrant(id: string, patch: GrantPatch): Promise<Grant> {
    const grant = await api.updateGrant(org(), id, patch);
    grants.value = grants.value.map((g) => (g.id === id ? grant : g));
    return grant;
  }

  async function deleteGrant(id: string): Promise<void> {
    await api.deleteGrant(org(), id);
    grants.value = grants.value.filter((g) => g.id !== id);
  }

  async function invite(input: CreateInviteInput): Promise<Invite> {
    const created = await api.createInvite(org(), { ...input, email: input.email.trim() });
    invites.value = [...invites.value, created];
    return created;
  }

  async function revokeInvite(id: string): Promise<void> {
    await api.revokeInvite(org(), id);
    invites.value = invites.value.filter((i) => i.id !== id);
  }

  return {
    grants,
    members,
    invites,
    loading: task.loading,
    error: task.error,
    load,
    grantsFor,
    memberLabel,
    createGrant,
    updateGrant,
    deleteGrant,
    invite,
    revokeInvite,
  };
});
