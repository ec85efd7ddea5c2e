// Wires stores to the fake registrar without mounting anything.
import { createPinia, setActivePinia, type Pinia } from 'pinia';
import { createApp, type App } from 'vue';
import { createTestPlatform, type TestPlatform } from '../platform/testing.js';
import { ApiClient } from '../services/api.js';
import { servicesKey, type Services } from '../services/container.js';
import { MemoryPresenceSource } from '../services/presence.js';
import { DEMO_IDS, FakeRegistrar } from './fake-registrar.js';

export const NOW = 1_750_000_000_000;

export interface TestContext extends Services {
  platform: TestPlatform;
  presence: MemoryPresenceSource;
  registrar: FakeRegistrar;
  app: App;
  pinia: Pinia;
}

export function setupTest(options: { signedIn?: boolean } = {}): TestContext {
  const registrar = FakeRegistrar.demo(NOW);
  if (options.signedIn) registrar.signIn(DEMO_IDS.ada);
  const platform = createTestPlatform(registrar.handle);
  platform.clock = NOW;
  const api = new ApiClient(platform.http);
  const presence = new MemoryPresenceSource();
  const app = createApp({ render: () => null });
  app.provide(servicesKey, { platform, api, presence });
  const pinia = createPinia();
  app.use(pinia);
  setActivePinia(pinia);
  return { platform, api, presence, registrar, app, pinia };
}
