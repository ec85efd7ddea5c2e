// The app's services, provided once at startup and injected into stores and composables
// (Pinia setup stores run inside the app's injection context).
import { inject, type InjectionKey } from 'vue';
import type { Platform } from '../platform/index.js';
import type { ApiClient } from './api.js';
import type { PresenceSource } from './presence.js';

export interface Services {
  platform: Platform;
  api: ApiClient;
  presence: PresenceSource;
}

export const servicesKey: InjectionKey<Services> = Symbol('services');

export function useServices(): Services {
  const services = inject(servicesKey);
  if (!services) throw new Error('useServices(): no services provided');
  return services;
}
