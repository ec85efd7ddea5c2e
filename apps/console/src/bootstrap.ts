// Builds the app from its services: stores, router, the 401 → sign-in redirect, theme.
import { createPinia } from 'pinia';
import { createApp, watchEffect } from 'vue';
import type { RouterHistory } from 'vue-router';
import App from './App.vue';
import { platformKey } from './platform/index.js';
import { servicesKey, type Services } from './services/container.js';
import { createAppRouter } from './router/index.js';
import { useAuthStore } from './stores/auth.js';
import { useSettingsStore } from './stores/settings.js';

export function createConsoleApp(services: Services, history: RouterHistory) {
  const app = createApp(App);
  app.provide(servicesKey, services);
  app.provide(platformKey, services.platform);
  const pinia = createPinia();
  app.use(pinia);
  const router = createAppRouter(history);
  app.use(router);

  const auth = app.runWithContext(() => useAuthStore(pinia));
  services.api.onUnauthorized = () => {
    auth.sessionExpired();
    const current = router.currentRoute.value;
    if (current.name !== 'sign-in') {
      void router.push({ name: 'sign-in', query: { redirect: current.fullPath } });
    }
  };

  const settings = app.runWithContext(() => useSettingsStore(pinia));
  watchEffect(() => {
    document.documentElement.dataset['theme'] = settings.effectiveTheme;
  });
  router.afterEach((to) => {
    document.title = to.meta.title ? `${to.meta.title} · peerfetch` : 'peerfetch';
  });

  return { app, router, pinia };
}
