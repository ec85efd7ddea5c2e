import { defineStore } from 'pinia';
import QRCode from 'qrcode';
import { computed, ref, watch } from 'vue';
import { useTask } from '../composables/useTask.js';
import type { ClaimCode, CreatedClaimCode } from '../services/api-types.js';
import { useServices } from '../services/container.js';
import { enrollCommands, enrollUri } from '../services/enroll-commands.js';
import { useAuthStore } from './auth.js';
import { normalizeTag } from './fleet.js';

/** Claim-code lifetimes offered (the registrar accepts 1 … 8760 hours). */
export const EXPIRY_CHOICES = [
  { label: '1 hour', hours: 1 },
  { label: '24 hours', hours: 24 },
  { label: '7 days', hours: 7 * 24 },
  { label: '30 days', hours: 30 * 24 },
] as const;

export interface EnrollForm {
  ttlHours: number;
  /** Comma- or space-separated. */
  tags: string;
  /** Becomes the device's name. */
  label: string;
}

export function parseTags(raw: string): string[] {
  return [
    ...new Set(
      raw
        .split(/[\s,]+/)
        .map(normalizeTag)
        .filter(Boolean),
    ),
  ];
}

export const useEnrollmentStore = defineStore('enrollment', () => {
  const { api, platform } = useServices();
  const auth = useAuthStore();
  const codes = ref<ClaimCode[]>([]);
  const list = useTask();
  const creating = useTask();
  /** The code just created. Shown once: cleared by `dismiss()`, never stored. */
  const revealed = ref<CreatedClaimCode | null>(null);
  const qrSvg = ref<string | null>(null);

  const commands = computed(() =>
    revealed.value
      ? enrollCommands(platform.http.baseUrl, revealed.value.code, revealed.value.label)
      : null,
  );

  /** Codes that can still be used, soonest expiry first. */
  const active = computed(() =>
    codes.value
      .filter((c) => c.state === 'active' && c.expiresAt > platform.now())
      .sort((a, b) => a.expiresAt - b.expiresAt),
  );

  async function load(): Promise<void> {
    if (!auth.orgId) return;
    const result = await list.run(() => api.listClaimCodes());
    if (result) codes.value = result;
  }

  async function create(form: EnrollForm): Promise<CreatedClaimCode | undefined> {
    const label = form.label.trim();
    const created = await creating.run(() =>
      api.createClaimCode({
        ttlHours: form.ttlHours,
        tags: parseTags(form.tags),
        ...(label ? { label } : {}),
      }),
    );
    if (!created) return undefined;
    revealed.value = created;
    const { code: _secret, ...listed } = created;
    codes.value = [...codes.value, listed];
    qrSvg.value = await QRCode.toString(enrollUri(platform.http.baseUrl, created.code), {
      type: 'svg',
      errorCorrectionLevel: 'M',
      margin: 1,
    });
    return created;
  }

  function dismiss() {
    revealed.value = null;
    qrSvg.value = null;
  }

  async function revoke(id: string): Promise<void> {
    const updated = await api.revokeClaimCode(id);
    codes.value = codes.value.map((c) => (c.id === id ? updated : c));
    if (revealed.value?.id === id) dismiss();
  }

  function clear() {
    codes.value = [];
    dismiss();
    list.error.value = null;
    creating.error.value = null;
  }
  // Another user or organisation must never see this one's data, even for a moment.
  watch(
    () => auth.orgId,
    () => clear(),
  );

  return {
    codes,
    active,
    loading: list.loading,
    error: list.error,
    creating: creating.loading,
    createError: creating.error,
    revealed,
    qrSvg,
    commands,
    load,
    create,
    dismiss,
    revoke,
  };
});
