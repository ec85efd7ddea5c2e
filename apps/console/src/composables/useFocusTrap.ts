import { nextTick, onBeforeUnmount, watch, type Ref } from 'vue';

const FOCUSABLE = [
  'a[href]',
  'button:not([disabled])',
  'input:not([disabled]):not([type="hidden"])',
  'select:not([disabled])',
  'textarea:not([disabled])',
  '[tabindex]:not([tabindex="-1"])',
].join(',');

export function focusableIn(container: HTMLElement): HTMLElement[] {
  return [...container.querySelectorAll<HTMLElement>(FOCUSABLE)].filter(
    (el) => !el.hasAttribute('inert') && el.getAttribute('aria-hidden') !== 'true',
  );
}

/**
 * While `active` is true: moves focus into `container`, keeps Tab/Shift+Tab inside it and
 * calls `onEscape` on Escape. When it turns false, focus returns where it was.
 */
export function useFocusTrap(
  container: Ref<HTMLElement | null>,
  active: Ref<boolean>,
  onEscape: () => void,
): void {
  let previous: HTMLElement | null = null;

  function onKeydown(event: KeyboardEvent) {
    const root = container.value;
    if (!root) return;
    if (event.key === 'Escape') {
      event.stopPropagation();
      onEscape();
      return;
    }
    if (event.key !== 'Tab') return;
    const items = focusableIn(root);
    const first = items[0];
    const last = items.at(-1);
    if (!first || !last) {
      event.preventDefault();
      root.focus();
      return;
    }
    const current = document.activeElement;
    if (event.shiftKey && (current === first || !root.contains(current))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (current === last || !root.contains(current))) {
      event.preventDefault();
      first.focus();
    }
  }

  async function activate() {
    previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    await nextTick();
    const root = container.value;
    if (!root) return;
    root.addEventListener('keydown', onKeydown);
    const autofocus = root.querySelector<HTMLElement>('[autofocus]');
    (autofocus ?? focusableIn(root)[0] ?? root).focus();
  }

  function deactivate() {
    container.value?.removeEventListener('keydown', onKeydown);
    previous?.focus();
    previous = null;
  }

  watch(
    active,
    (on, was) => {
      if (on) void activate();
      else if (was) deactivate();
    },
    { immediate: true },
  );
  onBeforeUnmount(() => {
    if (active.value) deactivate();
  });
}
