import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

// `npm run dev` proxies /api (REST and, later, the signaling WebSocket) to a registrar
// so that its SameSite=strict session cookie stays first-party. Default: the registrar's
// default port on loopback.
const registrar = process.env['CONSOLE_DEV_REGISTRAR'] ?? 'http://127.0.0.1:8790';

export default defineConfig({
  plugins: [vue()],
  resolve: { conditions: ['@peerfetch/source'] },
  build: { outDir: 'dist', sourcemap: true },
  server: { proxy: { '/api': { target: registrar, ws: true } } },
});
