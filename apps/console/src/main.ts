import { createWebHistory } from 'vue-router';
import { createConsoleApp } from './bootstrap.js';
import { createBrowserPlatform } from './platform/browser.js';
import { ApiClient } from './services/api.js';
import { RegistrarPresenceSource } from './services/presence.js';
import './styles/tokens.css';
import './styles/base.css';

const registrarUrl = (import.meta.env['VITE_REGISTRAR_URL'] as string | undefined) || undefined;
const platform = createBrowserPlatform(registrarUrl ? { registrarUrl } : {});
// Live presence: pushed by the registrar on its signaling WebSocket (docs/signaling.md).
const presence = new RegistrarPresenceSource(() =>
  platform.createWebSocket('/api/signal', ['pf-signal.v1']),
);
const { app } = createConsoleApp(
  { platform, api: new ApiClient(platform.http), presence },
  createWebHistory(import.meta.env.BASE_URL),
);
app.mount('#app');
