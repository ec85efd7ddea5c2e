/**
 * Fuzzes the decoder and the muxer with random and mutated input. Not part of CI's timed
 * path. Usage:
 *
 *   npx tsx libs/peer-http/fuzz/fuzz.ts [count=1000000] [seed]
 *
 * - `count` inputs go into fresh Decoders: random bytes, or encodings of valid frames with
 *   bit flips, byte overwrites, truncation, splicing and forged length fields, each fed in
 *   randomly cut pieces. Acceptable outcomes: frames, or a PeerHttpError.
 * - `count / 20` inputs go into live sessions over a memory transport: a valid HELLO, then
 *   a mix of valid and mutated frames from a hand-driven peer. Acceptable outcomes: the
 *   session keeps going, or closes with a protocol error; never an internal error, an
 *   unhandled rejection, or a session that does not close.
 * A crash is any other exception. Reports counts, crashes and peak memory; exits 1 on any crash.
 */
import fc from 'fast-check';
import { Decoder } from '../src/decode.js';
import { encode } from '../src/encode.js';
import { PeerHttpError, ReasonCode } from '../src/errors.js';
import { FRAME_HEADER_SIZE, type Frame } from '../src/frame.js';
import { createPeerHttp } from '../src/session.js';
import { createMemoryTransportPair } from '../src/transports/memory.js';
import { concat, frameArb } from '../test/support/arbitraries.js';

const count = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? Date.now() % 2 ** 31);

// xorshift32: fast, seedable, reproducible
let state = seed || 1;
function rand(): number {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 2 ** 32;
}
const int = (n: number): number => Math.floor(rand() * n);

const crashes: Array<{ where: string; error: unknown; input?: string }> = [];
let peakRss = 0;
let peakHeap = 0;
function sampleMemory(): void {
  const { rss, heapUsed } = process.memoryUsage();
  peakRss = Math.max(peakRss, rss);
  peakHeap = Math.max(peakHeap, heapUsed);
}
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
process.on('unhandledRejection', (error) => crashes.push({ where: 'unhandledRejection', error }));
process.on('uncaughtException', (error) => crashes.push({ where: 'uncaughtException', error }));

// a corpus of valid frames
const corpus: Uint8Array[] = fc.sample(frameArb, { numRuns: 3000, seed }).map((f) => encode(f));

function mutate(input: Uint8Array): Uint8Array {
  let bytes: Uint8Array = input.slice();
  const rounds = 1 + int(4);
  for (let r = 0; r < rounds; r++) {
    switch (int(7)) {
      case 0: // flip a bit
        if (bytes.length) bytes[int(bytes.length)]! ^= 1 << int(8);
        break;
      case 1: // overwrite a byte
        if (bytes.length) bytes[int(bytes.length)] = int(256);
        break;
      case 2: // truncate
        bytes = bytes.subarray(0, int(bytes.length + 1));
        break;
      case 3: // splice another frame in
        bytes = concat([bytes, corpus[int(corpus.length)]!]);
        break;
      case 4: {
        // forge a length field of the first frame
        if (bytes.length >= FRAME_HEADER_SIZE) {
          const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
          const choices = [
            0, 1, 8, 36, 16383, 16384, 65535, 65536, 65537, 0xffffff, 0x7fffffff, 0xffffffff,
          ];
          view.setUint32(6, rand() < 0.5 ? choices[int(choices.length)]! : int(2 ** 32));
        }
        break;
      }
      case 5: // change the type
        if (bytes.length) bytes[0] = rand() < 0.8 ? int(10) : int(256);
        break;
      default: // random tail
        bytes = concat([bytes, randomBytes(int(32))]);
    }
  }
  return bytes;
}

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = int(256);
  return out;
}

function nextInput(): Uint8Array {
  const r = rand();
  if (r < 0.3) return randomBytes(int(300));
  const frames: Uint8Array[] = [];
  const n = 1 + int(4);
  for (let i = 0; i < n; i++) frames.push(corpus[int(corpus.length)]!);
  const joined = concat(frames);
  return r < 0.4 ? joined : mutate(joined);
}

// ----- decoder -----

function fuzzDecoder(input: Uint8Array): void {
  const maxFrameSize = rand() < 0.5 ? 16384 : 65536;
  const decoder = new Decoder({ maxFrameSize, maxHeaderBytes: 1024 + int(maxFrameSize - 1024) });
  let offset = 0;
  try {
    while (offset < input.length) {
      const end = rand() < 0.3 ? input.length : offset + 1 + int(input.length - offset);
      const chunk = input.subarray(offset, end);
      offset = end;
      for (const _ of decoder.push(chunk)) {
        // frames are fine
      }
      if (decoder.bufferedBytes > FRAME_HEADER_SIZE + maxFrameSize + chunk.length) {
        throw new Error(`decoder holds ${decoder.bufferedBytes} bytes`);
      }
    }
  } catch (error) {
    if (!(error instanceof PeerHttpError))
      crashes.push({ where: 'decoder', error, input: hex(input) });
  }
}

// ----- muxer -----

const helloBytes = encode({
  type: 'HELLO',
  version: 1,
  tiebreaker: new Uint8Array(8),
  maxFrameSize: 65536,
  maxHeaderBytes: 16384,
  maxConcurrentStreams: 100,
  initialStreamWindow: 65536,
  initialConnectionWindow: 1 << 20,
});

/** Plausible frames with small ids, so the fuzz reaches stream logic and not only id checks. */
function plausibleFrame(): Frame {
  const streamId = 1 + int(8);
  switch (int(8)) {
    case 0:
      return {
        type: 'HEADERS',
        streamId,
        kind: 'request',
        method: ['GET', 'POST', 'HEAD', 'PUT'][int(4)]!,
        target: '/x',
        headers: [],
      };
    case 1:
      return {
        type: 'HEADERS',
        streamId,
        kind: 'response',
        status: 200 + int(400),
        headers: [['a', 'b']],
      };
    case 2:
      return { type: 'DATA', streamId, data: randomBytes(int(100)) };
    case 3:
      return { type: 'END', streamId };
    case 4:
      return { type: 'RESET', streamId, code: int(12) };
    case 5:
      return {
        type: 'WINDOW_UPDATE',
        streamId: int(3) === 0 ? 0 : streamId,
        increment: 1 + int(100000),
      };
    case 6:
      return { type: 'PING', data: randomBytes(8) };
    default:
      return { type: 'GOAWAY', lastStreamId: int(10), code: int(12), message: '' };
  }
}

async function fuzzMuxer(): Promise<void> {
  const [a, b] = createMemoryTransportPair();
  const session = createPeerHttp(a, {
    handler: (request) => new Response(request.method === 'POST' ? request.body : 'ok'),
    keepAliveInterval: 0,
    idleTimeout: 0,
    requestTimeout: 1000,
  });
  b.onMessage(() => undefined);
  const messages: Uint8Array[] = [helloBytes];
  const n = 1 + int(12);
  for (let i = 0; i < n; i++) {
    const frame = encode(plausibleFrame());
    messages.push(rand() < 0.25 ? mutate(frame) : frame);
  }
  if (rand() < 0.2) messages.push(nextInput());
  // the session also makes a request of its own now and then
  const own =
    rand() < 0.3
      ? session
          .get('/own')
          .then((r) => r.body?.cancel())
          .catch(() => undefined)
      : undefined;
  for (const message of messages) {
    if (!b.isOpen) break;
    try {
      b.send(message.subarray(0, Math.min(message.length, b.maxMessageSize)));
    } catch {
      break;
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 0));
  await new Promise((resolve) => setTimeout(resolve, 0));
  const reason = session.closeReason;
  if (reason?.code === ReasonCode.INTERNAL_ERROR && reason.cause !== undefined) {
    crashes.push({ where: 'muxer', error: reason.cause, input: messages.map(hex).join(' ') });
  }
  const closing = session.close();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = await Promise.race([
    closing.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), 5000);
    }),
  ]);
  clearTimeout(timer);
  if (hung)
    crashes.push({
      where: 'muxer (session did not close)',
      error: new Error('hang'),
      input: messages.map(hex).join(' '),
    });
  await own;
}

// ----- run -----

const started = performance.now();
for (let i = 0; i < count; i++) {
  fuzzDecoder(nextInput());
  if (i % 10000 === 0) sampleMemory();
  if (i % 100000 === 0 && i > 0) process.stderr.write(`decoder: ${i}\n`);
}
const decoderSeconds = (performance.now() - started) / 1000;

const muxerCount = Math.max(1000, Math.floor(count / 20));
const muxerStarted = performance.now();
const parallel = 64;
for (let done = 0; done < muxerCount; done += parallel) {
  await Promise.all(
    Array.from({ length: Math.min(parallel, muxerCount - done) }, () => fuzzMuxer()),
  );
  sampleMemory();
  if (done % 10000 < parallel && done > 0) process.stderr.write(`muxer: ${done}\n`);
}
const muxerSeconds = (performance.now() - muxerStarted) / 1000;

const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
console.log(`peer-http fuzz (seed ${seed})`);
console.log(`  decoder inputs: ${count.toLocaleString('en')} in ${decoderSeconds.toFixed(1)} s`);
console.log(`  muxer sessions: ${muxerCount.toLocaleString('en')} in ${muxerSeconds.toFixed(1)} s`);
console.log(`  crashes: ${crashes.length}`);
console.log(`  peak memory: rss ${mib(peakRss)} MiB, heap ${mib(peakHeap)} MiB`);
for (const crash of crashes.slice(0, 10)) {
  console.log(
    `  - ${crash.where}: ${crash.error instanceof Error ? crash.error.stack : String(crash.error)}`,
  );
  if (crash.input) console.log(`    input: ${crash.input.slice(0, 400)}`);
}
process.exit(crashes.length > 0 ? 1 : 0);
