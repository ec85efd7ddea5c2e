import { mount } from '@vue/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { defineComponent, nextTick, ref } from 'vue';
import PfDialog from './PfDialog.vue';

const Host = defineComponent({
  components: { PfDialog },
  setup() {
    const open = ref(false);
    const closes = ref(0);
    return { open, closes };
  },
  template: `
    <button id="opener" @click="open = true">Open</button>
    <PfDialog :open="open" title="Delete gate-camera?" @close="open = false; closes++">
      <p>Body</p>
      <template #actions>
        <button id="cancel">Cancel</button>
        <button id="confirm">Delete</button>
      </template>
    </PfDialog>`,
});

const tab = (shiftKey = false) =>
  document.activeElement?.dispatchEvent(
    new KeyboardEvent('keydown', { key: 'Tab', shiftKey, bubbles: true, cancelable: true }),
  );

afterEach(() => {
  document.body.innerHTML = '';
});

describe('PfDialog', () => {
  it('is a labelled modal dialog that traps focus, closes on Escape and restores focus', async () => {
    const wrapper = mount(Host, { attachTo: document.body });
    const opener = document.getElementById('opener') as HTMLButtonElement;
    opener.focus();
    await wrapper.find('#opener').trigger('click');
    await nextTick();
    await nextTick();

    const dialog = document.querySelector('[role="dialog"]');
    expect(dialog?.getAttribute('aria-modal')).toBe('true');
    const labelledBy = dialog?.getAttribute('aria-labelledby') ?? '';
    expect(document.getElementById(labelledBy)?.textContent).toBe('Delete gate-camera?');

    expect(document.activeElement?.id).toBe('cancel');
    tab();
    expect(document.activeElement?.id).toBe('cancel'); // not moved by us: browser default
    (document.getElementById('confirm') as HTMLButtonElement).focus();
    tab();
    expect(document.activeElement?.id).toBe('cancel'); // wrapped from last to first
    tab(true);
    expect(document.activeElement?.id).toBe('confirm'); // wrapped from first to last

    document.activeElement?.dispatchEvent(
      new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }),
    );
    await nextTick();
    await nextTick();
    expect(document.querySelector('[role="dialog"]')).toBeNull();
    expect((wrapper.vm as unknown as { closes: number }).closes).toBe(1);
    expect(document.activeElement).toBe(opener);
    wrapper.unmount();
  });

  it('closes when the backdrop is clicked, not when the panel is', async () => {
    const wrapper = mount(Host, { attachTo: document.body });
    await wrapper.find('#opener').trigger('click');
    await nextTick();
    (document.querySelector('[role="dialog"] p') as HTMLElement).click();
    await nextTick();
    expect(document.querySelector('[role="dialog"]')).not.toBeNull();
    (document.querySelector('.pf-dialog__backdrop') as HTMLElement).click();
    await nextTick();
    expect(document.querySelector('[role="dialog"]')).toBeNull();
    wrapper.unmount();
  });
});
