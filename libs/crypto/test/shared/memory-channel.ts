// An in-memory, ordered, message-preserving channel pair for handshake tests, with a hook
// that lets a test play the man in the middle (drop, rewrite, or inject messages).
import type { HandshakeChannel } from '../../src/index.js';

export type Direction = 'a→b' | 'b→a';
export type Tap = (message: Uint8Array, direction: Direction) => Uint8Array | undefined;

export interface TestChannel extends HandshakeChannel {
  /** Messages received while no listener was set, in order. */
  readonly queued: Uint8Array[];
  closed: boolean;
  close(): void;
}

export function memoryChannelPair(tap?: Tap): [TestChannel, TestChannel] {
  const make = (): TestChannel & {
    deliver(m: Uint8Array): void;
    peer?: TestChannel & { deliver(m: Uint8Array): void };
    direction: Direction;
  } => {
    let listener: ((m: Uint8Array) => void) | undefined;
    let closeListener: ((error?: Error) => void) | undefined;
    const self = {
      queued: [] as Uint8Array[],
      closed: false,
      direction: 'a→b' as Direction,
      peer: undefined as (TestChannel & { deliver(m: Uint8Array): void }) | undefined,
      deliver(m: Uint8Array) {
        if (self.closed) return;
        if (listener) listener(m);
        else self.queued.push(m);
      },
      send(m: Uint8Array) {
        if (self.closed) throw new Error('channel closed');
        const copy = m.slice();
        const direction = self.direction;
        const peer = self.peer;
        setTimeout(() => {
          const out = tap ? tap(copy, direction) : copy;
          if (out && peer) peer.deliver(out);
        }, 0);
      },
      onMessage(l: ((m: Uint8Array) => void) | undefined) {
        listener = l;
        while (listener && self.queued.length > 0) {
          const next = self.queued.shift();
          if (next) listener(next);
        }
      },
      onClose(l: ((error?: Error) => void) | undefined) {
        closeListener = l;
      },
      close() {
        if (self.closed) return;
        self.closed = true;
        const peer = self.peer;
        setTimeout(() => {
          closeListener?.();
          if (peer && !peer.closed) peer.close();
        }, 0);
      },
    };
    return self;
  };
  const a = make();
  const b = make();
  a.peer = b;
  b.peer = a;
  b.direction = 'b→a';
  return [a, b];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Rewrites a JSON handshake message (for tampering tests). */
export function rewriteJson(
  message: Uint8Array,
  edit: (json: Record<string, unknown>) => void,
): Uint8Array {
  const json = JSON.parse(decoder.decode(message)) as Record<string, unknown>;
  edit(json);
  return encoder.encode(JSON.stringify(json));
}

export function messageType(message: Uint8Array): string {
  try {
    const json = JSON.parse(decoder.decode(message)) as Record<string, unknown>;
    return typeof json['type'] === 'string' ? json['type'] : '?';
  } catch {
    return '?';
  }
}
