import { inject, type InjectionKey } from 'vue';
import type { Platform } from './types.js';

export type * from './types.js';

export const platformKey: InjectionKey<Platform> = Symbol('platform');

/** The platform provided by the app (`app.provide(platformKey, …)`). */
export function usePlatform(): Platform {
  const platform = inject(platformKey);
  if (!platform) throw new Error('usePlatform(): no platform provided');
  return platform;
}
