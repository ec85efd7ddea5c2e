import vue from '@vitejs/plugin-vue';
import { mergeConfig } from 'vitest/config';
import { peerfetchProject } from '../../vitest.shared.js';

export default mergeConfig(
  { plugins: [vue()] },
  peerfetchProject(import.meta.dirname, { test: { environment: 'happy-dom' } }),
);
