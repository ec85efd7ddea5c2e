import vue from '@vitejs/plugin-vue';
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// `npm run dev` proxies /api (REST and, later, the signaling WebSocket) to a registrar
// so that its SameSite=strict session cookie stays first-party. Default: the registrar's
// default port on loopback.
const registrar = process.env['CONSOLE_DEV_REGISTRAR'] ?? 'http://127.0.0.1:8790';

export default defineConfig({
  plugins: [vue()],
  resolve: { conditions: ['@peerfetch/source'] },
  build: {
    outDir: 'dist',
    sourcemap: true,
    rollupOptions: {
      // the media relay's service worker is its own entry, at a fixed root URL (its scope)
      input: {
        main: resolve(import.meta.dirname, 'index.html'),
        'peer-sw': resolve(import.meta.dirname, 'src/sw/peer-sw.ts'),
      },
      output: {
        entryFileNames: (chunk) =>
          chunk.name === 'peer-sw' ? 'peer-sw.js' : 'assets/[name]-[hash].js',
      },
    },
  },
  server: {
    proxy: { '/api': { target: registrar, ws: true } },
    // the media relay's worker is served from /src/sw/ in dev but controls scope `/`
    headers: { 'Service-Worker-Allowed': '/' },
  },
});
