import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import { useTask } from '../composables/useTask.js';
import type {
  CreatedInvite,
  CreateGrantInput,
  CreateInviteInput,
  CreateUserInput,
  Device,
  Grant,
  GrantRole,
  GrantSubject,
  Group,
  Invite,
  OrgRole,
  OrgUser,
} from '../services/api-types.js';
import { useServices } from '../services/container.js';
import { useAuthStore } from './auth.js';

/** Whether `grant` is given to the person or group `id`. */
function isGrantOf(grant: Grant, kind: GrantSubject['kind'], id: string): boolean {
  const { subject } = grant;
  return (
    subject.kind === kind && (subject.kind === 'user' ? subject.userId : subject.groupId) === id
  );
}

export const useAccessStore = defineStore('access', () => {
  const { api } = useServices();
  const auth = useAuthStore();
  const grants = ref<Grant[]>([]);
  const users = ref<OrgUser[]>([]);
  const invites = ref<Invite[]>([]);
  const groups = ref<Group[]>([]);
  const task = useTask();

  /** Loads people and (for admins, who alone manage them) grants, groups and invitations. */
  async function load(): Promise<void> {
    if (!auth.orgId) return;
    const admin = auth.canAdmin;
    const result = await task.run(() =>
      Promise.all([
        api.listUsers(),
        admin ? api.listGrants() : Promise.resolve([]),
        admin ? api.listInvites() : Promise.resolve([]),
        admin ? api.listGroups() : Promise.resolve([]),
      ]),
    );
    if (result) [users.value, grants.value, invites.value, groups.value] = result;
  }

  /** Invitations still waiting for their person (newest first, as the registrar lists). */
  const pendingInvites = computed(() => invites.value.filter((i) => i.state === 'pending'));

  /**
   * Invites an e-mail. The answer holds the token once: the caller shows the link and
   * drops it; the store keeps only the invitation without its token. A re-invite of the
   * same e-mail replaces (revokes) the earlier invitation.
   */
  async function invite(input: CreateInviteInput): Promise<CreatedInvite> {
    const created = await api.createInvite({ ...input, email: input.email.trim() });
    const { token: _token, ...stored } = created;
    invites.value = [
      stored,
      ...invites.value.map((i) =>
        i.email === stored.email && i.state === 'pending'
          ? { ...i, state: 'revoked' as const, revokedAt: stored.createdAt }
          : i,
      ),
    ];
    return created;
  }

  async function revokeInvite(id: string): Promise<Invite> {
    const revoked = await api.revokeInvite(id);
    invites.value = invites.value.map((i) => (i.id === id ? revoked : i));
    return revoked;
  }

  /** Grants that apply to a device: direct ones and those on any of its tags. */
  function grantsFor(device: Pick<Device, 'id' | 'tags'>): Grant[] {
    return grants.value.filter((g) =>
      g.target.kind === 'device'
        ? g.target.deviceId === device.id
        : device.tags.includes(g.target.tag),
    );
  }

  /** The grants given to one person or one group. */
  function grantsOf(kind: GrantSubject['kind'], id: string): Grant[] {
    return grants.value.filter((g) => isGrantOf(g, kind, id));
  }

  function subjectLabel(grant: Grant): string {
    if (grant.subject.kind === 'group') return groupLabel(grant.subject.groupId);
    return userLabel(grant.subject.userId);
  }

  function groupLabel(groupId: string): string {
    const g = groups.value.find((x) => x.id === groupId);
    return g ? `${g.name} (group)` : `group ${groupId.slice(0, 8)}`;
  }

  function userLabel(userId: string): string {
    const u = users.value.find((x) => x.id === userId);
    return u ? u.name || u.email : userId.slice(0, 8);
  }

  async function createGrant(input: CreateGrantInput): Promise<Grant> {
    const grant = await api.createGrant(input);
    grants.value = [...grants.value, grant];
    return grant;
  }

  async function setGrantRole(id: string, role: GrantRole): Promise<Grant> {
    const grant = await api.updateGrantRole(id, role);
    grants.value = grants.value.map((g) => (g.id === id ? grant : g));
    return grant;
  }

  async function deleteGrant(id: string): Promise<void> {
    await api.deleteGrant(id);
    grants.value = grants.value.filter((g) => g.id !== id);
  }

  /** Keeps the list in the registrar's order (by name). */
  function putGroup(group: Group): void {
    groups.value = [...groups.value.filter((g) => g.id !== group.id), group].sort((a, b) =>
      a.name.localeCompare(b.name),
    );
  }

  async function createGroup(name: string): Promise<Group> {
    const group = await api.createGroup(name.trim());
    putGroup(group);
    return group;
  }

  async function renameGroup(id: string, name: string): Promise<Group> {
    const group = await api.renameGroup(id, name.trim());
    putGroup(group);
    return group;
  }

  /** Deletes a group; the registrar deletes its grants with it, and so does the list here. */
  async function deleteGroup(id: string): Promise<void> {
    await api.deleteGroup(id);
    groups.value = groups.value.filter((g) => g.id !== id);
    grants.value = grants.value.filter((g) => !isGrantOf(g, 'group', id));
  }

  async function addGroupMember(groupId: string, userId: string): Promise<Group> {
    const group = await api.addGroupMember(groupId, userId);
    putGroup(group);
    return group;
  }

  async function removeGroupMember(groupId: string, userId: string): Promise<Group> {
    const group = await api.removeGroupMember(groupId, userId);
    putGroup(group);
    return group;
  }

  async function addUser(input: CreateUserInput): Promise<OrgUser> {
    const created = await api.createUser({
      ...input,
      email: input.email.trim(),
      name: input.name.trim(),
    });
    users.value = [...users.value, created];
    return created;
  }

  /** Changes a member's role; the registrar refuses your own and roles above yours. */
  async function setUserRole(userId: string, role: OrgRole): Promise<OrgUser> {
    const updated = await api.setUserRole(userId, role);
    users.value = users.value.map((u) => (u.id === userId ? updated : u));
    return updated;
  }

  /** Removes a member; their grants and group memberships go with them (as in the registrar). */
  async function removeUser(userId: string): Promise<void> {
    await api.removeUser(userId);
    users.value = users.value.filter((u) => u.id !== userId);
    grants.value = grants.value.filter((g) => !isGrantOf(g, 'user', userId));
    groups.value = groups.value.map((g) =>
      g.memberIds.includes(userId)
        ? {
            ...g,
            memberIds: g.memberIds.filter((id) => id !== userId),
            memberCount: g.memberCount - 1,
          }
        : g,
    );
  }

  function clear() {
    grants.value = [];
    users.value = [];
    invites.value = [];
    groups.value = [];
    task.error.value = null;
  }
  // Another user or organisation must never see this one's data, even for a moment.
  watch(
    () => auth.orgId,
    () => clear(),
  );

  return {
    grants,
    users,
    invites,
    groups,
    pendingInvites,
    loading: task.loading,
    error: task.error,
    load,
    grantsFor,
    grantsOf,
    subjectLabel,
    userLabel,
    groupLabel,
    createGrant,
    setGrantRole,
    deleteGrant,
    createGroup,
    renameGroup,
    deleteGroup,
    addGroupMember,
    removeGroupMember,
    addUser,
    setUserRole,
    removeUser,
    invite,
    revokeInvite,
  };
});
