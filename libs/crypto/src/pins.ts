// Trust-on-first-use pins of device identity keys, for the console: one definition of
// where and how a pinned key is stored, over any localStorage-like storage.
import { CryptoError } from './errors.js';
import { fromBase64url, toBase64url } from './encoding.js';
import { PUBLIC_KEY_LENGTH, assertPublicKey } from './keys.js';

/** The subset of the Web Storage API the pins need (`window.localStorage` fits). */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface DeviceKeyPins {
  /** The pinned key, or undefined if this device was never seen. Throws BAD_KEY if the stored pin is corrupt. */
  get(deviceId: string): Uint8Array | undefined;
  set(deviceId: string, publicKey: Uint8Array): void;
  /** Drops a pin: only after an explicit user decision (legitimate re-enrollment). */
  forget(deviceId: string): void;
}

export function memoryStorage(): KeyValueStorage {
  const map = new Map<string, string>();
  return {
    getItem: (key) => map.get(key) ?? null,
    setItem: (key, value) => void map.set(key, value),
    removeItem: (key) => void map.delete(key),
  };
}

/**
 * Device-key pins in `storage` under `<prefix><deviceId>` (base64url of the raw key).
 * A corrupt pin is an error, never a silent return to first-use trust.
 */
export function createDeviceKeyPins(
  storage: KeyValueStorage = memoryStorage(),
  prefix = 'peerfetch.deviceKey.',
): DeviceKeyPins {
  return {
    get(deviceId) {
      const value = storage.getItem(prefix + deviceId);
      if (value === null) return undefined;
      try {
        const key = fromBase64url(value, PUBLIC_KEY_LENGTH, 'pinned key');
        assertPublicKey(key);
        return key;
      } catch (cause) {
        throw new CryptoError('BAD_KEY', `the pinned key for device ${deviceId} is corrupt`, {
          cause,
        });
      }
    },
    set(deviceId, publicKey) {
      assertPublicKey(publicKey);
      storage.setItem(prefix + deviceId, toBase64url(publicKey));
    },
    forget(deviceId) {
      storage.removeItem(prefix + deviceId);
    },
  };
}
