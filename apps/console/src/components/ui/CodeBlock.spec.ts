import { flushPromises, mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import { platformKey } from '../../platform/index.js';
import { createTestPlatform } from '../../platform/testing.js';
import CodeBlock from './CodeBlock.vue';

describe('CodeBlock', () => {
  it('copies its code through the platform clipboard and says so', async () => {
    const platform = createTestPlatform();
    const wrapper = mount(CodeBlock, {
      props: { code: 'docker run x', label: 'With Docker' },
      global: { provide: { [platformKey as symbol]: platform } },
    });
    expect(wrapper.find('pre').text()).toBe('docker run x');
    const button = wrapper.find('button');
    expect(button.text()).toBe('Copy');
    expect(button.attributes('aria-label')).toBe('Copy: With Docker');
    await button.trigger('click');
    await flushPromises();
    expect(platform.copied).toEqual(['docker run x']);
    expect(button.text()).toBe('Copied');
    expect(wrapper.find('[aria-live]').text()).toBe('With Docker copied to the clipboard');
    expect(wrapper.emitted('copied')).toHaveLength(1);
  });

  it('tells the user to copy by hand when the clipboard refuses', async () => {
    const platform = createTestPlatform();
    platform.clipboard.writeText = () => Promise.reject(new Error('denied'));
    const wrapper = mount(CodeBlock, {
      props: { code: 'x', label: 'Code' },
      global: { provide: { [platformKey as symbol]: platform } },
    });
    await wrapper.find('button').trigger('click');
    await flushPromises();
    expect(wrapper.find('[role="alert"]').text()).toMatch(/copy it by hand/);
    expect(wrapper.emitted('copied')).toBeUndefined();
  });
});
