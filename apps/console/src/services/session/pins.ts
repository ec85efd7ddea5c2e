// Device-key pins (trust on first use, @peerfetch/crypto) over the platform storage.
import { createDeviceKeyPins, type DeviceKeyPins } from '@peerfetch/crypto';
import type { KeyValueStorage } from '../../platform/index.js';

export function devicePins(storage: KeyValueStorage): DeviceKeyPins {
  return createDeviceKeyPins({
    getItem: (key) => storage.get(key),
    setItem: (key, value) => storage.set(key, value),
    removeItem: (key) => storage.remove(key),
  });
}
