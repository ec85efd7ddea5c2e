import { watch } from 'vue';
import { useAuthStore } from '../stores/auth.js';

/** Runs `load` now and again whenever the current organisation changes. */
export function useOrgEffect(load: () => Promise<void> | void): void {
  const auth = useAuthStore();
  watch(
    () => auth.orgId,
    (org) => {
      if (org) void load();
    },
    { immediate: true },
  );
}
