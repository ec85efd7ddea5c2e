import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeAll } from '../src/decode.js';
import { encode } from '../src/encode.js';
import { PeerHttpError, reasonName } from '../src/errors.js';
import type { Frame } from '../src/frame.js';

interface Vectors {
  protocolVersion: number;
  decoderLimits: { maxFrameSize: number; maxHeaderBytes: number };
  valid: Array<{ name: string; hex: string; frame: Record<string, unknown> }>;
  invalid: Array<{ name: string; hex: string; error: string; code: number }>;
  rejectedHeaders: Array<{ name: string; hex: string; error: string; code: number }>;
}

const vectors = JSON.parse(
  readFileSync(new URL('../conformance/vectors.json', import.meta.url), 'utf8'),
) as Vectors;

const fromHex = (hex: string): Uint8Array =>
  new Uint8Array((hex.match(/../g) ?? []).map((b) => parseInt(b, 16)));
const BYTE_FIELDS = new Set(['tiebreaker', 'data']);
const toFrame = (json: Record<string, unknown>): Frame =>
  Object.fromEntries(
    Object.entries(json).map(([key, value]) => [
      key,
      BYTE_FIELDS.has(key) ? fromHex(value as string) : value,
    ]),
  ) as unknown as Frame;

describe('conformance vectors', () => {
  it('has vectors of every kind', () => {
    expect(vectors.protocolVersion).toBe(1);
    expect(new Set(vectors.valid.map((v) => v.frame['type']))).toEqual(
      new Set([
        'HELLO',
        'HEADERS',
        'DATA',
        'END',
        'RESET',
        'WINDOW_UPDATE',
        'PING',
        'PONG',
        'GOAWAY',
      ]),
    );
    expect(vectors.invalid.length).toBeGreaterThan(10);
    expect(vectors.rejectedHeaders.length).toBeGreaterThan(5);
  });

  for (const vector of vectors.valid) {
    it(`valid: ${vector.name}`, () => {
      const frame = toFrame(vector.frame);
      expect(Buffer.from(encode(frame)).toString('hex')).toBe(vector.hex);
      expect(decodeAll(fromHex(vector.hex), vectors.decoderLimits)).toEqual([frame]);
    });
  }

  for (const vector of vectors.invalid) {
    it(`invalid: ${vector.name} → ${vector.error}`, () => {
      let caught: unknown;
      try {
        decodeAll(fromHex(vector.hex), vectors.decoderLimits);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(PeerHttpError);
      expect((caught as PeerHttpError).code).toBe(vector.code);
      expect(reasonName(vector.code)).toBe(vector.error);
    });
  }

  for (const vector of vectors.rejectedHeaders) {
    it(`rejected header block: ${vector.name} → ${vector.error}`, () => {
      const [frame, ...rest] = decodeAll(fromHex(vector.hex), vectors.decoderLimits);
      expect(rest).toEqual([]);
      expect(frame).toMatchObject({ type: 'HEADERS_REJECTED', streamId: 1, code: vector.code });
    });
  }
});
