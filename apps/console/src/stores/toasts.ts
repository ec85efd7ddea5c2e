import { defineStore } from 'pinia';
import { ref } from 'vue';

export type ToastKind = 'info' | 'success' | 'error';

export interface Toast {
  id: number;
  kind: ToastKind;
  message: string;
}

/** Milliseconds a toast stays; errors stay until dismissed. */
export const TOAST_MS = 5000;

export const useToastStore = defineStore('toasts', () => {
  const toasts = ref<Toast[]>([]);
  let next = 1;

  function dismiss(id: number) {
    toasts.value = toasts.value.filter((t) => t.id !== id);
  }

  function push(kind: ToastKind, message: string): number {
    const id = next++;
    toasts.value = [...toasts.value.slice(-3), { id, kind, message }];
    if (kind !== 'error') setTimeout(() => dismiss(id), TOAST_MS);
    return id;
  }

  return {
    toasts,
    dismiss,
    push,
    info: (m: string) => push('info', m),
    success: (m: string) => push('success', m),
    error: (m: string) => push('error', m),
  };
});
