import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CryptoError } from './errors.js';
import {
  bytesEqual,
  encodeFields,
  fromBase64url,
  fromHex,
  toBase32,
  toBase64url,
  toHex,
  utf8,
} from './encoding.js';

describe('base32 (RFC 4648 §10 test vectors, unpadded)', () => {
  it.each([
    ['', ''],
    ['f', 'MY'],
    ['fo', 'MZXQ'],
    ['foo', 'MZXW6'],
    ['foob', 'MZXW6YQ'],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI'],
  ])('%j → %s', (input, output) => {
    expect(toBase32(utf8(input))).toBe(output);
  });
});

describe('base64url', () => {
  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        expect(toHex(fromBase64url(toBase64url(bytes)))).toBe(toHex(bytes));
      }),
    );
  });

  it.each(['a+b/', 'YQ==', 'Y', 'YR', '😀', 42, null])('refuses %j', (text) => {
    expect(() => fromBase64url(text)).toThrow(CryptoError);
  });

  it('enforces the expected length', () => {
    expect(() => fromBase64url(toBase64url(new Uint8Array(31)), 32)).toThrow(/32 bytes/);
  });

  it('garbage never throws anything but CryptoError', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          fromBase64url(text, 32);
        } catch (error) {
          expect(error).toBeInstanceOf(CryptoError);
        }
      }),
    );
  });
});

describe('fields encoding', () => {
  it('length-prefixes every field (u32 big-endian)', () => {
    expect(toHex(encodeFields([utf8('ab'), new Uint8Array(0), new Uint8Array([255])]))).toBe(
      '00000002' + '6162' + '00000000' + '00000001' + 'ff',
    );
  });

  it('is injective across field boundaries', () => {
    expect(
      bytesEqual(encodeFields([utf8('ab'), utf8('c')]), encodeFields([utf8('a'), utf8('bc')])),
    ).toBe(false);
  });

  it('hex round trip and refusal', () => {
    expect(toHex(fromHex('00ff10'))).toBe('00ff10');
    expect(() => fromHex('0g')).toThrow(CryptoError);
  });
});
