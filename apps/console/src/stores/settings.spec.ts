import { describe, expect, it } from 'vitest';
import { setupTest } from '../testing/setup.js';
import { THEME_STORAGE_KEY, useSettingsStore } from './settings.js';

describe('settings store', () => {
  it('follows the system preference until a theme is chosen', () => {
    const ctx = setupTest();
    const settings = useSettingsStore();
    expect(settings.theme).toBe('system');
    expect(settings.effectiveTheme).toBe('light');
    ctx.platform.mediaQueries.get('(prefers-color-scheme: dark)')?.set(true);
    expect(settings.effectiveTheme).toBe('dark');
    settings.toggleTheme();
    expect(settings.theme).toBe('light');
    expect(ctx.platform.storage.get(THEME_STORAGE_KEY)).toBe('light');
    settings.setTheme('system');
    expect(ctx.platform.storage.get(THEME_STORAGE_KEY)).toBeNull();
    expect(settings.effectiveTheme).toBe('dark');
  });

  it('reads a stored theme and ignores garbage', () => {
    const ctx = setupTest();
    ctx.platform.storage.set(THEME_STORAGE_KEY, 'dark');
    expect(useSettingsStore().effectiveTheme).toBe('dark');
    const ctx2 = setupTest();
    ctx2.platform.storage.set(THEME_STORAGE_KEY, 'purple');
    expect(useSettingsStore().theme).toBe('system');
    expect(ctx.platform).not.toBe(ctx2.platform);
  });
});
