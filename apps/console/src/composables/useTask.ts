import { ref, type Ref } from 'vue';
import { ApiError, errorMessage } from '../services/api-error.js';

export interface Task {
  readonly loading: Ref<boolean>;
  /** A message fit to show, or null. */
  readonly error: Ref<string | null>;
  /** Runs `fn`, tracking loading and error; resolves to undefined when `fn` failed. */
  run<T>(fn: () => Promise<T>): Promise<T | undefined>;
}

/**
 * Loading/error bookkeeping for one kind of request. A 401 is left to the API client's
 * unauthorized hook (redirect to sign-in) and is not shown as an error here.
 */
export function useTask(): Task {
  const loading = ref(false);
  const error = ref<string | null>(null);
  let generation = 0;
  async function run<T>(fn: () => Promise<T>): Promise<T | undefined> {
    const mine = ++generation;
    loading.value = true;
    error.value = null;
    try {
      return await fn();
    } catch (e) {
      if (mine === generation && !(e instanceof ApiError && e.status === 401)) {
        error.value = errorMessage(e);
      }
      return undefined;
    } finally {
      if (mine === generation) loading.value = false;
    }
  }
  return { loading, error, run };
}
