import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canPublish, canSubscribe, deviceTopic, parseDeviceTopic } from './topics.js';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const devA = { kind: 'device', deviceId: A } as const;

describe('topic contract', () => {
  it('parses device topics and nothing else', () => {
    expect(parseDeviceTopic(deviceTopic(A, 'signal/out'))).toEqual({
      deviceId: A,
      kind: 'signal/out',
    });
    for (const t of [
      `pf/v1/dev/${A}`,
      `pf/v1/dev/${A}/`,
      `pf/v1/dev/${A}/signal`,
      `pf/v1/dev/${A}/status/extra`,
      `pf/v1/dev/+/status`,
      `pf/v1/dev/#`,
      `pf/v2/dev/${A}/status`,
      `pf/v1/dev/ABCDEF01-2345-4678-89AB-CDEF01234567/status`,
    ]) {
      expect(parseDeviceTopic(t)).toBeNull();
    }
  });

  it('a device publishes only its own outbound topics', () => {
    for (const k of ['status', 'heartbeat', 'signal/out', 'audit'] as const) {
      expect(canPublish(devA, deviceTopic(A, k))).toBe(true);
      expect(canPublish(devA, deviceTopic(B, k))).toBe(false);
    }
    expect(canPublish(devA, deviceTopic(A, 'signal/in'))).toBe(false);
    expect(canPublish(devA, '$SYS/broker')).toBe(false);
    expect(canPublish({ kind: 'registrar' }, deviceTopic(B, 'signal/in'))).toBe(true);
  });

  it('a device subscribes only to its own signal/in, without wildcards', () => {
    expect(canSubscribe(devA, deviceTopic(A, 'signal/in'))).toBe(true);
    for (const f of [
      deviceTopic(B, 'signal/in'),
      deviceTopic(A, 'status'),
      `pf/v1/dev/+/signal/in`,
      `pf/v1/dev/${A}/#`,
      '#',
      '+/+/+/+/+/+',
    ]) {
      expect(canSubscribe(devA, f)).toBe(false);
    }
  });

  it('property: nothing a device may touch names another device', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const topics = [
          s,
          `pf/v1/dev/${B}/${s}`,
          `pf/v1/dev/${s}/status`,
          `${deviceTopic(A, 'status')}${s}`,
        ];
        for (const t of topics) {
          if (canPublish(devA, t) || canSubscribe(devA, t)) {
            expect(parseDeviceTopic(t)?.deviceId).toBe(A);
          }
        }
      }),
    );
  });
});
