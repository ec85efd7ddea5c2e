import { describe, expect, it } from 'vitest';
import { generateKeyPair } from './keys.js';
import { createDeviceKeyPins, memoryStorage } from './pins.js';

describe('device key pins', () => {
  it('stores, reads and forgets a pin', () => {
    const storage = memoryStorage();
    const pins = createDeviceKeyPins(storage);
    const key = generateKeyPair().publicKey;
    expect(pins.get('d1')).toBeUndefined();
    pins.set('d1', key);
    expect(pins.get('d1')).toEqual(key);
    expect(createDeviceKeyPins(storage).get('d1')).toEqual(key);
    pins.forget('d1');
    expect(pins.get('d1')).toBeUndefined();
  });

  it('a corrupt pin is an error, not a fresh first use', () => {
    const storage = memoryStorage();
    storage.setItem('peerfetch.deviceKey.d1', 'garbage');
    expect(() => createDeviceKeyPins(storage).get('d1')).toThrow(
      expect.objectContaining({ code: 'BAD_KEY' }),
    );
  });

  it('refuses to pin something that is not a key', () => {
    expect(() => createDeviceKeyPins().set('d1', new Uint8Array(3))).toThrow(
      expect.objectContaining({ code: 'BAD_KEY' }),
    );
  });
});
