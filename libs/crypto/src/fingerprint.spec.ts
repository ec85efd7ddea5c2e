import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CryptoError } from './errors.js';
import {
  fingerprintsEqual,
  formatFingerprint,
  parseFingerprint,
  parseSdpFingerprint,
} from './fingerprint.js';

const FP =
  'sha-256 4E:7B:96:0F:2A:9C:31:1D:0E:55:8B:6A:C2:FA:12:7E:94:AD:30:61:BB:0C:59:E7:1F:83:4A:D6:28:9E:C5:77';

// An offer as Chromium writes it (fingerprint at media level) and an answer as
// libdatachannel writes it (lower-case hash name, session level).
const chromiumSdp = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  `a=fingerprint:${FP.toUpperCase().replace('SHA-256', 'sha-256')}`,
  'a=setup:actpass',
  'a=mid:0',
  'a=sctp-port:5000',
  '',
].join('\r\n');
const libdatachannelSdp = `v=0\r\no=rtc 1 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=fingerprint:${FP.toLowerCase()}\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=fingerprint:${FP}\r\n`;

describe('DTLS fingerprints', () => {
  it('parses and normalizes case and colons', () => {
    const a = parseFingerprint(FP);
    const b = parseFingerprint(FP.toLowerCase());
    const c = parseFingerprint(`SHA-256 ${FP.slice(8).replace(/:/g, '')}`);
    expect(a.algorithm).toBe('sha-256');
    expect(a.bytes).toHaveLength(32);
    expect(fingerprintsEqual(a, b)).toBe(true);
    expect(fingerprintsEqual(a, c)).toBe(true);
    expect(formatFingerprint(b)).toBe(FP);
  });

  it('reads the fingerprint of Chromium and libdatachannel SDPs', () => {
    expect(formatFingerprint(parseSdpFingerprint(chromiumSdp))).toBe(FP);
    expect(formatFingerprint(parseSdpFingerprint(libdatachannelSdp))).toBe(FP);
  });

  it('refuses SDPs with none or two different fingerprints', () => {
    expect(() => parseSdpFingerprint('v=0\r\n')).toThrow(/no DTLS fingerprint/);
    const other = FP.replace('4E:7B', '4E:7C');
    expect(() => parseSdpFingerprint(`${chromiumSdp}a=fingerprint:${other}\r\n`)).toThrow(
      /more than one/,
    );
  });

  it('refuses an SDP listing fingerprints of two hash algorithms (a relay could add its own)', () => {
    const sha512 = `sha-512 ${Array.from({ length: 64 }, () => 'AB').join(':')}`;
    expect(() => parseSdpFingerprint(`${chromiumSdp}a=fingerprint:${sha512}\r\n`)).toThrow(
      /more than one/,
    );
  });

  it.each([
    'sha-1 4E:7B:96:0F:2A:9C:31:1D:0E:55:8B:6A:C2:FA:12:7E:94:AD:30:61',
    'md5 4E:7B:96:0F:2A:9C:31:1D:0E:55:8B:6A:C2:FA:12:7E',
    'sha-256 4E:7B',
    'sha-256 4E:7B:96:0F:2A:9C:31:1D:0E:55:8B:6A:C2:FA:12:7E:94:AD:30:61:BB:0C:59:E7:1F:83:4A:D6:28:9E:C5:7',
    'sha-256 4E7:B96',
    'sha-256',
  ])('refuses %s', (value) => {
    expect(() => parseFingerprint(value)).toThrow(CryptoError);
  });

  it('garbage never throws anything but CryptoError', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          parseSdpFingerprint(`a=fingerprint:${text}`);
        } catch (error) {
          expect(error).toBeInstanceOf(CryptoError);
        }
      }),
    );
  });
});
