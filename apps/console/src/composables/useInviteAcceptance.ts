import { computed, ref } from 'vue';
import { ApiError, errorMessage } from '../services/api-error.js';
import type { InvitePreview } from '../services/api-types.js';
import { useServices } from '../services/container.js';
import { inviteTokenFrom } from '../services/invite-link.js';
import { useAuthStore } from '../stores/auth.js';

export type AcceptanceStatus = 'loading' | 'ready' | 'invalid' | 'accepting' | 'accepted';

const MIN_PASSWORD = 12;

/**
 * The accept page's logic: reads the invitation the link's fragment names, then accepts it
 * (a new account chooses name and password; an existing account gives its own password)
 * and signs in to the inviting organisation with the same e-mail and password.
 */
export function useInviteAcceptance(hash: string) {
  const { api } = useServices();
  const auth = useAuthStore();
  const token = inviteTokenFrom(hash);
  const preview = ref<InvitePreview | null>(null);
  const status = ref<AcceptanceStatus>('loading');
  const error = ref<string | null>(null);

  async function load(): Promise<void> {
    error.value = null;
    if (!token) {
      status.value = 'invalid';
      error.value = 'This link has no invitation code. Ask for a new invitation link.';
      return;
    }
    status.value = 'loading';
    try {
      preview.value = await api.previewInvite(token);
      status.value = 'ready';
    } catch (e) {
      status.value = 'invalid';
      error.value =
        e instanceof ApiError && e.code === 'INVITE_INVALID'
          ? 'This invitation has expired, was revoked or has already been used. Ask for a new one.'
          : errorMessage(e);
    }
  }

  /** Why the form cannot be sent yet, or null. */
  function problem(input: { name: string; password: string; confirm: string }): string | null {
    if (!preview.value) return 'The invitation is not loaded.';
    if (preview.value.existingUser) return input.password ? null : 'Enter your password.';
    if (!input.name.trim()) return 'Enter your name.';
    if (input.password.length < MIN_PASSWORD)
      return `Choose a password of at least ${MIN_PASSWORD} characters.`;
    if (input.password !== input.confirm) return 'The passwords do not match.';
    return null;
  }

  async function accept(input: { name: string; password: string; confirm: string }) {
    const invite = preview.value;
    if (!token || !invite || problem(input) !== null) return false;
    status.value = 'accepting';
    error.value = null;
    try {
      const accepted = await api.acceptInvite({
        token,
        password: input.password,
        ...(invite.existingUser ? {} : { name: input.name.trim() }),
      });
      status.value = 'accepted';
      if (!(await auth.signIn(accepted.email, input.password, accepted.orgId))) {
        error.value = `You joined ${accepted.orgName}. Sign in with ${accepted.email}.`;
        return false;
      }
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.code === 'INVITE_INVALID') {
        status.value = 'invalid';
        error.value = 'This invitation has just been used, revoked or has expired.';
      } else {
        status.value = 'ready';
        error.value =
          e instanceof ApiError && e.code === 'INVALID_CREDENTIALS'
            ? `That is not the password of ${invite.email}.`
            : errorMessage(e);
      }
      return false;
    }
  }

  return {
    token,
    preview,
    status,
    error,
    isExisting: computed(() => preview.value?.existingUser === true),
    load,
    problem,
    accept,
  };
}
