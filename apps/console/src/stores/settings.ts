import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { useServices } from '../services/container.js';

export type ThemePreference = 'system' | 'light' | 'dark';
export const THEME_STORAGE_KEY = 'peerfetch.theme';
const DARK_QUERY = '(prefers-color-scheme: dark)';

function isPreference(v: unknown): v is ThemePreference {
  return v === 'system' || v === 'light' || v === 'dark';
}

export const useSettingsStore = defineStore('settings', () => {
  const { platform } = useServices();
  const stored = platform.storage.get(THEME_STORAGE_KEY);
  const theme = ref<ThemePreference>(isPreference(stored) ? stored : 'system');
  const media = platform.media(DARK_QUERY);
  const systemDark = ref(media.matches);
  media.subscribe((matches) => {
    systemDark.value = matches;
  });

  /** The theme actually shown. */
  const effectiveTheme = computed<'light' | 'dark'>(() =>
    theme.value === 'system' ? (systemDark.value ? 'dark' : 'light') : theme.value,
  );

  function setTheme(value: ThemePreference) {
    theme.value = value;
    if (value === 'system') platform.storage.remove(THEME_STORAGE_KEY);
    else platform.storage.set(THEME_STORAGE_KEY, value);
  }

  /** Light ⇄ dark, from whatever is shown now. */
  function toggleTheme() {
    setTheme(effectiveTheme.value === 'dark' ? 'light' : 'dark');
  }

  return { theme, effectiveTheme, setTheme, toggleTheme };
});
