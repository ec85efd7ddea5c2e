// The standalone client bundle: dist/peerfetch.js (IIFE, `window.peerfetch.PeerFetch`), for
// plain HTML pages. Built after the app (`npm run build`), into the same dist/.
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

export default defineConfig({
  resolve: { conditions: ['@peerfetch/source'] },
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    sourcemap: true,
    lib: {
      entry: resolve(import.meta.dirname, 'src/standalone/index.ts'),
      name: 'peerfetch',
      formats: ['iife'],
      fileName: () => 'peerfetch.js',
    },
  },
});
