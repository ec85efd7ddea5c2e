import { createWebHistory } from 'vue-router';
import { createConsoleApp } from './bootstrap.js';
import { createBrowserPlatform } from './platform/browser.js';
import { ApiClient } from './services/api.js';
import { MemoryPresenceSource } from './services/presence.js';
import './styles/tokens.css';
import './styles/base.css';

const registrarUrl = (import.meta.env['VITE_REGISTRAR_URL'] as string | undefined) || undefined;
const platform = createBrowserPlatform(registrarUrl ? { registrarUrl } : {});
// Live presence arrives with the registrar's WebSocket (docs/signaling.md); until then the
// fleet shows the status the REST API reports, refreshed on load.
const presence = new MemoryPresenceSource();
const { app } = createConsoleApp(
  { platform, api: new ApiClient(platform.http), presence },
  createWebHistory(import.meta.env.BASE_URL),
);
app.mount('#app');
