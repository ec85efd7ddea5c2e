import { onBeforeUnmount, ref, type Ref } from 'vue';
import { usePlatform } from '../platform/index.js';

/** The platform clock, refreshed every `everyMs` while the component lives. */
export function useNow(everyMs = 30_000): Ref<number> {
  const platform = usePlatform();
  const now = ref(platform.now());
  const timer = setInterval(() => {
    now.value = platform.now();
  }, everyMs);
  onBeforeUnmount(() => clearInterval(timer));
  return now;
}
