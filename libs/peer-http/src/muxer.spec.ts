import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { frameArb } from '../test/support/arbitraries.js';
import { Decoder } from './decode.js';
import { encode } from './encode.js';
import type { PeerHttpError } from './errors.js';
import { ReasonCode } from './errors.js';
import type { DecodedFrame, Frame, HelloFrame } from './frame.js';
import { createPeerHttp, type PeerHttpSession } from './session.js';
import { createMemoryTransportPair, type MemoryTransport } from './transports/memory.js';
import type { Transport } from './transport.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function hello(overrides: Partial<HelloFrame> = {}): HelloFrame {
  return {
    type: 'HELLO',
    version: 1,
    tiebreaker: new Uint8Array(8), // all zero: the session under test always gets odd ids
    maxFrameSize: 65536,
    maxHeaderBytes: 16384,
    maxConcurrentStreams: 100,
    initialStreamWindow: 65536,
    initialConnectionWindow: 1 << 20,
    ...overrides,
  };
}

/** A hand-driven peer: sends raw bytes, records decoded frames. */
class RawPeer {
  readonly frames: DecodedFrame[] = [];
  messages = 0;
  closed = false;
  private readonly decoder = new Decoder({ maxFrameSize: 1 << 20 });
  constructor(readonly transport: MemoryTransport) {
    transport.onMessage((message) => {
      this.messages++;
      for (const frame of this.decoder.push(message)) this.frames.push(frame);
    });
    transport.onClose(() => {
      this.closed = true;
    });
  }
  send(...frames: Array<Frame | Uint8Array>): void {
    for (const frame of frames)
      this.transport.send(frame instanceof Uint8Array ? frame : encode(frame));
  }
  async next<T extends DecodedFrame['type']>(type: T): Promise<Extract<DecodedFrame, { type: T }>> {
    for (;;) {
      const index = this.frames.findIndex((f) => f.type === type);
      if (index >= 0) return this.frames.splice(index, 1)[0] as Extract<DecodedFrame, { type: T }>;
      if (this.closed) throw new Error(`closed before ${type}`);
      await sleep(2);
    }
  }
}

describe('muxer (against a hand-driven peer)', () => {
  const sessions: PeerHttpSession[] = [];
  afterEach(async () => {
    await Promise.allSettled(sessions.splice(0).map((s) => s.close()));
  });

  function start(options: Parameters<typeof createPeerHttp>[1] = {}) {
    const [a, b] = createMemoryTransportPair();
    const session = createPeerHttp(a, options);
    sessions.push(session);
    return { session, raw: new RawPeer(b) };
  }

  it('sends HELLO first with its limits and takes odd ids against a smaller tiebreaker', async () => {
    const { session, raw } = start({ maxConcurrentStreams: 9 });
    const ours = await raw.next('HELLO');
    expect(ours).toMatchObject({ version: 1, maxConcurrentStreams: 9, maxFrameSize: 65536 });
    raw.send(hello());
    const pending = session.get('/x');
    const request = await raw.next('HEADERS');
    expect(request).toMatchObject({ streamId: 1, kind: 'request', method: 'GET', target: '/x' });
    await raw.next('END');
    expect(raw.messages).toBe(2); // HELLO, then HEADERS + END of the GET in one message
    raw.send(
      { type: 'HEADERS', streamId: 1, kind: 'response', status: 200, headers: [['x-a', 'b']] },
      { type: 'DATA', streamId: 1, data: new TextEncoder().encode('ok') },
      { type: 'END', streamId: 1 },
    );
    const response = await pending;
    expect([response.status, response.headers.get('x-a'), await response.text()]).toEqual([
      200,
      'b',
      'ok',
    ]);
  });

  it('answers a small GET with HEADERS, DATA and END in one message', async () => {
    const { raw } = start({ handler: () => new Response('pong', { headers: { 'x-a': 'b' } }) });
    await raw.next('HELLO');
    raw.send(hello({ tiebreaker: new Uint8Array(8).fill(0xff) })); // we open odd ids
    raw.send(
      { type: 'HEADERS', streamId: 1, kind: 'request', method: 'GET', target: '/', headers: [] },
      { type: 'END', streamId: 1 },
    );
    const end = await raw.next('END');
    expect(end.streamId).toBe(1);
    const headers = await raw.next('HEADERS');
    expect(headers).toMatchObject({ kind: 'response', status: 200 });
    const data = await raw.next('DATA');
    expect(new TextDecoder().decode(data.data)).toBe('pong');
    expect(raw.messages).toBe(2); // HELLO, then the whole response
  });

  it('batches the WINDOW_UPDATEs of one turn into one message', async () => {
    const { session, raw } = start({ initialStreamWindow: 65536 });
    await raw.next('HELLO');
    raw.send(hello());
    const pending = [session.get('/a'), session.get('/b')];
    await raw.next('HEADERS');
    await raw.next('HEADERS');
    const before = raw.messages;
    const half = new Uint8Array(32768);
    for (const streamId of [1, 3]) {
      raw.send(
        { type: 'HEADERS', streamId, kind: 'response', status: 200, headers: [] },
        { type: 'DATA', streamId, data: half },
      );
    }
    const [a, b] = await Promise.all(pending);
    // both readers consume half their window in the same turn
    const reads = [a!.body!.getReader().read(), b!.body!.getReader().read()];
    await Promise.all(reads);
    const updates = [await raw.next('WINDOW_UPDATE'), await raw.next('WINDOW_UPDATE')];
    expect(updates.map((u) => u.streamId).sort()).toEqual([1, 3]);
    expect(raw.messages - before).toBe(1);
  });

  it('refuses an unknown version with GOAWAY VERSION_MISMATCH and a clear error', async () => {
    const { session, raw } = start();
    const bytes = encode(hello()).slice();
    bytes[15] = 7; // version 7
    raw.send(bytes);
    const goaway = await raw.next('GOAWAY');
    expect(goaway.code).toBe(ReasonCode.VERSION_MISMATCH);
    expect(goaway.message).toBe('peer-http version 7 is not supported; this peer speaks version 1');
    await session.closed;
    expect(session.closeReason?.code).toBe(ReasonCode.VERSION_MISMATCH);
    const error = await session.get('/').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(((error as TypeError).cause as PeerHttpError).message).toContain(
      'version 7 is not supported',
    );
  });

  it('answers a first frame other than HELLO with GOAWAY PROTOCOL_ERROR and closes', async () => {
    const { session, raw } = start();
    raw.send({ type: 'PING', data: new Uint8Array(8) });
    expect((await raw.next('GOAWAY')).code).toBe(ReasonCode.PROTOCOL_ERROR);
    await session.closed;
    expect(raw.closed || !raw.transport.isOpen).toBe(true);
  });

  it('treats garbage as a connection error, never an exception', async () => {
    const { session, raw } = start();
    raw.send(hello(), new Uint8Array([0x02, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]));
    expect((await raw.next('GOAWAY')).code).toBe(ReasonCode.PROTOCOL_ERROR);
    await session.closed;
  });

  it('treats a frame on an idle stream as a connection error', async () => {
    const { session, raw } = start();
    raw.send(hello(), { type: 'DATA', streamId: 4, data: new Uint8Array(1) });
    expect((await raw.next('GOAWAY')).code).toBe(ReasonCode.PROTOCOL_ERROR);
    await session.closed;
  });

  it('resets a stream whose DATA exceeds its window and keeps the connection', async () => {
    const { session, raw } = start({
      handler: () => new Promise<Response>(() => undefined),
      initialStreamWindow: 65536,
    });
    raw.send(hello(), {
      type: 'HEADERS',
      streamId: 2,
      kind: 'request',
      method: 'POST',
      target: '/',
      headers: [],
    });
    raw.send(
      { type: 'DATA', streamId: 2, data: new Uint8Array(40000) },
      { type: 'DATA', streamId: 2, data: new Uint8Array(30000) },
    );
    const reset = await raw.next('RESET');
    expect(reset).toEqual({ type: 'RESET', streamId: 2, code: ReasonCode.FLOW_CONTROL_ERROR });
    raw.send({ type: 'PING', data: new Uint8Array(8).fill(3) });
    expect((await raw.next('PONG')).data).toEqual(new Uint8Array(8).fill(3));
    expect(session.closeReason).toBeUndefined();
  });

  it('answers PING with PONG and refuses streams beyond maxConcurrentStreams', async () => {
    const { raw } = start({
      handler: () => new Promise<Response>(() => undefined),
      maxConcurrentStreams: 1,
    });
    raw.send(hello(), { type: 'PING', data: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) });
    expect((await raw.next('PONG')).data).toEqual(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    const request = (id: number): Frame => ({
      type: 'HEADERS',
      streamId: id,
      kind: 'request',
      method: 'GET',
      target: '/',
      headers: [],
    });
    raw.send(request(2), request(4));
    expect(await raw.next('RESET')).toEqual({
      type: 'RESET',
      streamId: 4,
      code: ReasonCode.REFUSED_STREAM,
    });
  });

  it('answers 431 to an oversized request header block', async () => {
    const { raw } = start({ handler: () => new Response('ok'), maxHeaderBytes: 1024 });
    raw.send(hello(), {
      type: 'HEADERS',
      streamId: 2,
      kind: 'request',
      method: 'GET',
      target: '/',
      headers: [['x-big', 'a'.repeat(1100)]],
    });
    expect(await raw.next('HEADERS')).toMatchObject({ streamId: 2, kind: 'response', status: 431 });
  });

  it('fails streams above GOAWAY lastStreamId with REFUSED_STREAM', async () => {
    const { session, raw } = start();
    raw.send(hello());
    const first = session.get('/1');
    const second = session.get('/2');
    await raw.next('HEADERS');
    await raw.next('HEADERS');
    raw.send({ type: 'GOAWAY', lastStreamId: 1, code: 0, message: 'bye' });
    const error = await second.catch((e: unknown) => e);
    expect(((error as TypeError).cause as PeerHttpError).code).toBe(ReasonCode.REFUSED_STREAM);
    raw.send(
      { type: 'HEADERS', streamId: 1, kind: 'response', status: 204, headers: [] },
      { type: 'END', streamId: 1 },
    );
    expect((await first).status).toBe(204);
    const later = await session.get('/3').catch((e: unknown) => e);
    expect(later).toBeInstanceOf(TypeError);
  });

  it('sends keepalive PINGs and closes with IDLE_TIMEOUT when the peer goes silent', async () => {
    const { session, raw } = start({ keepAliveInterval: 30, idleTimeout: 150 });
    raw.send(hello());
    await raw.next('PING');
    const goaway = await raw.next('GOAWAY');
    expect(goaway.code).toBe(ReasonCode.IDLE_TIMEOUT);
    await session.closed;
    expect(session.closeReason?.code).toBe(ReasonCode.IDLE_TIMEOUT);
  });

  it('stays open while the peer keeps sending, however long, and times out once it stops', async () => {
    const { session, raw } = start({ keepAliveInterval: 0, idleTimeout: 90 });
    raw.send(hello());
    const ping = (n: number): Frame => ({ type: 'PING', data: new Uint8Array(8).fill(n) });
    let lastSent = 0;
    for (let n = 0; n < 12; n++) {
      await sleep(25);
      raw.send(ping(n)); // every 25 ms: 300 ms in all, more than three idle timeouts
      lastSent = performance.now();
    }
    expect(raw.closed).toBe(false);
    expect((await raw.next('GOAWAY')).code).toBe(ReasonCode.IDLE_TIMEOUT);
    // never before the timeout (a little slack: timers run on a millisecond clock)
    expect(performance.now() - lastSent).toBeGreaterThanOrEqual(88);
    await session.closed;
  });

  it('returns connection credit for DATA on closed streams and honours WINDOW_UPDATE', async () => {
    const { session, raw } = start({ initialConnectionWindow: 65536, initialStreamWindow: 65536 });
    raw.send(hello({ initialStreamWindow: 65536 }));
    const upload = session.post('/', new Uint8Array(100_000));
    await raw.next('HEADERS');
    let received = 0;
    while (received < 65536) received += (await raw.next('DATA')).data.length;
    expect(received).toBe(65536); // the stream window is exhausted: the sender waits
    raw.send(
      { type: 'WINDOW_UPDATE', streamId: 1, increment: 65536 },
      { type: 'WINDOW_UPDATE', streamId: 0, increment: 65536 },
    );
    while (received < 100_000) received += (await raw.next('DATA')).data.length;
    await raw.next('END');
    raw.send(
      { type: 'HEADERS', streamId: 1, kind: 'response', status: 200, headers: [] },
      { type: 'END', streamId: 1 },
    );
    expect((await upload).status).toBe(200);
  });
});

describe('muxer over small messages', () => {
  it('splits a frame larger than the channel message size across messages', async () => {
    const [a, b] = createMemoryTransportPair({ maxMessageSize: 1024 });
    const server = createPeerHttp(b, {
      handler: (r) => Response.json({ v: r.headers.get('x-long')?.length }),
    });
    const client = createPeerHttp(a);
    const response = await client.get('/', { headers: { 'x-long': 'v'.repeat(5000) } });
    expect(await response.json()).toEqual({ v: 5000 });
    expect(server.peerLimits?.maxFrameSize).toBe(16384);
    await client.close();
  });
});

describe('muxer under arbitrary input (property)', () => {
  it('ends every run open or closed with a protocol error: no internal error, no hang', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            frameArb.map((f) => encode(f)),
            fc.uint8Array({ maxLength: 64 }),
          ),
          { maxLength: 8 },
        ),
        fc.boolean(),
        async (messages, withRequest) => {
          const [a, b] = createMemoryTransportPair();
          const session = createPeerHttp(a, {
            handler: (r) => new Response(r.body),
            keepAliveInterval: 0,
            idleTimeout: 0,
          });
          b.onMessage(() => undefined);
          const own = withRequest ? session.get('/').catch(() => undefined) : undefined;
          b.send(encode(hello()));
          for (const message of messages) if (b.isOpen) b.send(message);
          await sleep(1);
          await sleep(1);
          const reason = session.closeReason;
          expect(
            reason?.code === ReasonCode.INTERNAL_ERROR && reason.cause !== undefined,
            String(reason?.cause),
          ).toBe(false);
          await session.close();
          await own;
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('memory transport', () => {
  it('keeps message boundaries, models bufferedAmount and maxMessageSize, and closes both ends', async () => {
    const [a, b] = createMemoryTransportPair({ maxMessageSize: 1000 });
    const got: number[] = [];
    b.onMessage((m) => got.push(m.length));
    let low = 0;
    a.bufferedAmountLowThreshold = 0;
    a.onBufferedAmountLow(() => low++);
    a.send(new Uint8Array(10));
    a.send(new Uint8Array(1000));
    expect(a.bufferedAmount).toBe(1010);
    expect(() => a.send(new Uint8Array(1001))).toThrow(TypeError);
    await sleep(5);
    expect(got).toEqual([10, 1000]);
    expect(a.bufferedAmount).toBe(0);
    expect(low).toBe(1);
    const closes: Array<Error | undefined> = [];
    a.onClose((e) => closes.push(e));
    b.onClose((e) => closes.push(e));
    a.send(new Uint8Array(3));
    b.close();
    await sleep(5);
    expect(closes).toEqual([undefined, undefined]);
    expect(() => a.send(new Uint8Array(1))).toThrow();
  });

  it('queues messages until a listener is set', async () => {
    const [a, b] = createMemoryTransportPair();
    a.send(new Uint8Array([1]));
    a.send(new Uint8Array([2]));
    await sleep(5);
    const got: number[] = [];
    b.onMessage((m) => got.push(m[0]!));
    await sleep(1);
    expect(got).toEqual([1, 2]);
  });
});

/** Passes everything to a memory end and keeps each message given to `send`, as given. */
class RecordingTransport implements Transport {
  readonly sent: Uint8Array[] = [];
  constructor(
    private readonly inner: MemoryTransport,
    readonly copiesOnSend: boolean,
  ) {}
  get maxMessageSize() {
    return this.inner.maxMessageSize;
  }
  /** How often the muxer asked for `bufferedAmount` (a native call on a real channel). */
  bufferedReads = 0;
  /** The largest `bufferedAmount` right after a send. */
  peakBuffered = 0;
  get bufferedAmount() {
    this.bufferedReads++;
    return this.inner.bufferedAmount;
  }
  get bufferedAmountLowThreshold() {
    return this.inner.bufferedAmountLowThreshold;
  }
  set bufferedAmountLowThreshold(bytes: number) {
    this.inner.bufferedAmountLowThreshold = bytes;
  }
  get isOpen() {
    return this.inner.isOpen;
  }
  send(message: Uint8Array): void {
    this.sent.push(message);
    this.inner.send(message);
    this.peakBuffered = Math.max(this.peakBuffered, this.inner.bufferedAmount);
  }
  close(): void {
    this.inner.close();
  }
  onMessage(listener: ((message: Uint8Array) => void) | undefined): void {
    this.inner.onMessage(listener);
  }
  onBufferedAmountLow(listener: (() => void) | undefined): void {
    this.inner.onBufferedAmountLow(listener);
  }
  onClose(listener: ((error?: Error) => void) | undefined): void {
    this.inner.onClose(listener);
  }
}

describe('bulk DATA frames and the transport’s copiesOnSend', () => {
  const CHUNKS = [1, 2, 3].map((fill) => new Uint8Array(65536).fill(fill));

  async function serveChunks(copiesOnSend: boolean) {
    const [a, b] = createMemoryTransportPair();
    const recording = new RecordingTransport(a, copiesOnSend);
    const server = createPeerHttp(recording, {
      handler: () => {
        let next = 0;
        return new Response(
          new ReadableStream<Uint8Array>({
            pull(controller) {
              const chunk = CHUNKS[next++];
              if (chunk) controller.enqueue(chunk);
              else controller.close();
            },
          }),
        );
      },
    });
    const client = createPeerHttp(b);
    const body = new Uint8Array(await (await client.get('/')).arrayBuffer());
    await client.close();
    await server.close().catch(() => undefined);
    const bulk = recording.sent.filter((m) => m.length >= 32 * 1024);
    return { body, bulk };
  }

  const expected = new Uint8Array(3 * 65536);
  CHUNKS.forEach((chunk, i) => expected.set(chunk, i * 65536));

  it('gives a transport that may keep its messages one buffer per frame', async () => {
    const { body, bulk } = await serveChunks(false);
    expect(body).toEqual(expected);
    // each message the transport kept still holds its own frame
    const decoder = new Decoder({ maxFrameSize: 1 << 20 });
    const payloads = bulk.flatMap((m) => [...decoder.push(m)]);
    expect(payloads.map((f) => (f.type === 'DATA' ? f.data[0] : -1))).toEqual([1, 2, 3]);
    expect(new Set(bulk.map((m) => m.buffer)).size).toBe(3);
  });

  it('reuses one buffer for the bulk frames of a transport that copies', async () => {
    const { body, bulk } = await serveChunks(true);
    expect(body).toEqual(expected);
    expect(bulk).toHaveLength(3);
    expect(new Set(bulk.map((m) => m.buffer)).size).toBe(1);
  });
});

describe('the channel’s buffer', () => {
  const KiB = 1024;
  const chunks = (count: number) =>
    new ReadableStream<Uint8Array>({
      pull(controller) {
        if (count-- > 0) controller.enqueue(new Uint8Array(64 * KiB).fill(count));
        else controller.close();
      },
    });

  it('holds DATA back above sendHighWaterMark, whatever the windows allow', async () => {
    // a slow channel (4 MiB/s) and windows far larger than the body: only the channel's
    // buffered amount can hold the sender back
    const [a, b] = createMemoryTransportPair({ bytesPerSecond: 4 * 1024 * KiB });
    const recording = new RecordingTransport(a, true);
    const limits = {
      initialStreamWindow: 64 * 1024 * KiB,
      initialConnectionWindow: 64 * 1024 * KiB,
      sendHighWaterMark: 256 * KiB,
      sendLowWaterMark: 64 * KiB,
    };
    const server = createPeerHttp(recording, {
      ...limits,
      handler: () => new Response(chunks(24)),
    });
    const client = createPeerHttp(b, limits);
    const body = new Uint8Array(await (await client.get('/')).arrayBuffer());
    await client.close();
    await server.close().catch(() => undefined);
    expect(body.length).toBe(24 * 64 * KiB);
    // what the mark allows, plus the one frame that crossed it
    expect(recording.peakBuffered).toBeLessThanOrEqual(256 * KiB + 64 * KiB + 64);
    expect(recording.peakBuffered).toBeGreaterThan(64 * KiB);
  });

  it.each([
    ['a core handler', { coreHandler: () => ({ status: 200, body: 'pong' }) }],
    ['a fetch-style handler', { handler: () => new Response('pong') }],
  ] as const)(
    'answers small requests with %s without asking the channel for its buffered amount',
    async (_, serving) => {
      const [a, b] = createMemoryTransportPair();
      const recording = new RecordingTransport(a, true);
      const server = createPeerHttp(recording, serving);
      const client = createPeerHttp(b);
      await Promise.all([server.ready, client.ready]);
      recording.bufferedReads = 0;
      for (let i = 0; i < 20; i++) {
        expect(await (await client.request({ target: '/' })).text()).toBe('pong');
      }
      expect(recording.bufferedReads).toBe(0);
      await client.close();
      await server.close().catch(() => undefined);
    },
  );
});
