/**
 * The connection: HELLO exchange, frame dispatch, stream table, connection-level flow
 * control, channel back-pressure, PING/keepalive/idle timeout and GOAWAY (PROTOCOL.md).
 * It knows nothing about fetch; `session.ts` builds requests and responses on top.
 */
import type { PeerHttpConfig } from './config.js';
import { Decoder } from './decode.js';
import { encode, encodeDataInto, encodeHeaders, encodeWhole } from './encode.js';
import { PeerHttpError, ReasonCode, reasonName } from './errors.js';
import {
  FRAME_HEADER_SIZE,
  MAX_INT31,
  PROTOCOL_VERSION,
  type DecodedFrame,
  type Frame,
  type HeadersFrame,
  type HelloFrame,
  type RejectedHeadersFrame,
  type RequestHeadersFrame,
} from './frame.js';
import { Stream, type StreamHost } from './stream.js';
import type { Transport } from './transport.js';

/** Frames that belong to a stream, as {@link Muxer.onStreamFrame} routes them. */
type StreamFrame = Extract<
  DecodedFrame,
  { type: 'DATA' | 'END' | 'RESET' | 'WINDOW_UPDATE' | 'HEADERS' | 'HEADERS_REJECTED' }
>;

/** An incoming stream: its request HEADERS, or why its header block was rejected. */
export type IncomingStream =
  | { stream: Stream; request: RequestHeadersFrame; rejected?: undefined }
  | { stream: Stream; request?: undefined; rejected: RejectedHeadersFrame };

type Timer = ReturnType<typeof setTimeout>;

function unref(timer: Timer): Timer {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}

/** Frames this large are sent on their own at once (coalescing would only add a copy). */
const BULK_FRAME = 32 * 1024;

const EMPTY = new Uint8Array(0);

let afterTurnImpl: ((fn: () => void) => void) | undefined;

/**
 * Runs `fn` once the code running now is done: in Node when the current turn of the event
 * loop ends (setImmediate), in a browser at the next microtask checkpoint. Frames queued
 * meanwhile share one message either way (a request, a small reply, the replies to the
 * frames of one received message); a browser's task hop (a MessageChannel message) would
 * cost each round trip tens of µs in Chromium (docs/performance.md, "The browser's turn").
 */
function afterTurn(fn: () => void): void {
  afterTurnImpl ??= pickAfterTurn();
  afterTurnImpl(fn);
}

function pickAfterTurn(): (fn: () => void) => void {
  const g = globalThis as { setImmediate?: (fn: () => void) => unknown };
  if (typeof g.setImmediate === 'function') {
    const setImmediate = g.setImmediate;
    return (fn) => void setImmediate(fn);
  }
  return (fn) => queueMicrotask(fn);
}

const hex = (bytes: Uint8Array): string =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

export class Muxer implements StreamHost {
  /** The peer's HELLO, once received. */
  peer: HelloFrame | undefined;
  /** Set when the connection failed or closed. */
  closeError: PeerHttpError | undefined;
  readonly ready: Promise<HelloFrame>;
  readonly closed: Promise<void>;
  /** Last measured round-trip time in ms (from PING/PONG), or undefined. */
  rtt: number | undefined;
  /** Called for each stream the peer opens. */
  onStream: ((incoming: IncomingStream) => void) | undefined;

  private readonly decoder: Decoder;
  private readonly hello: HelloFrame;
  private readonly streams = new Map<number, Stream>();
  private readonly sendRotation = new Set<Stream>();
  private nextLocalId = 0;
  private lastRemoteId = 0;
  private localOpen = 0;
  private remoteOpen = 0;
  private readonly slotWaiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  /** Waiters given a free slot that have not resumed yet. */
  private wokenWaiters = 0;
  private connSendWindow = 0;
  private connRecvWindow: number;
  private connUnacknowledged = 0;
  private goAwaySent = false;
  private goAwayReceived: { lastStreamId: number; code: number; message: string } | undefined;
  private readonly pings = new Map<
    string,
    { sentAt: number; resolve: (rtt: number) => void; reject: (e: unknown) => void }
  >();
  private pingSeq = 0;
  /**
   * Messages received so far. No clock is read per message: the timer notes the time of the
   * tick at which it sees this count change ({@link lastReceived}), so silence is measured
   * in ticks (a third of the shorter of keepAliveInterval and idleTimeout) and never overstated.
   */
  private received = 0;
  private receivedAtTick = 0;
  /** The tick at which a message was last seen to have arrived (or the start). */
  private lastReceived = Date.now();
  private timer: Timer | undefined;
  private flushing = false;
  private waitingForLow = false;
  private resolveReady!: (hello: HelloFrame) => void;
  private rejectReady!: (error: unknown) => void;
  private resolveClosed!: () => void;
  private isClosed = false;
  /** The transport reported its close (cheaper than asking a native channel every frame). */
  private transportClosed = false;

  constructor(
    readonly transport: Transport,
    readonly config: PeerHttpConfig,
  ) {
    const maxFrameSize = Math.max(
      16384,
      Math.min(config.maxFrameSize, transport.maxMessageSize - FRAME_HEADER_SIZE),
    );
    this.hello = {
      type: 'HELLO',
      version: PROTOCOL_VERSION,
      tiebreaker: crypto.getRandomValues(new Uint8Array(8)),
      maxFrameSize,
      maxHeaderBytes: Math.min(config.maxHeaderBytes, maxFrameSize),
      maxConcurrentStreams: config.maxConcurrentStreams,
      initialStreamWindow: config.initialStreamWindow,
      initialConnectionWindow: config.initialConnectionWindow,
    };
    this.connRecvWindow = config.initialConnectionWindow;
    this.decoder = new Decoder({ maxFrameSize, maxHeaderBytes: this.hello.maxHeaderBytes });
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => undefined);
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });

    transport.bufferedAmountLowThreshold = config.sendLowWaterMark;
    transport.onBufferedAmountLow(() => this.guard(() => this.onLow()));
    transport.onClose((error) => this.guard(() => this.onTransportClose(error)));
    transport.onMessage((message) => this.guard(() => this.onMessage(message)));
    this.sendFrame(this.hello);
    this.armTimer();
  }

  /** Limits this side advertised. */
  get localHello(): HelloFrame {
    return this.hello;
  }

  /** Whether new streams can still be opened. */
  get acceptingStreams(): boolean {
    return !this.isClosed && !this.goAwaySent && !this.goAwayReceived;
  }

  // ----- opening streams -----

  /** Waits for the peer's HELLO and a free concurrency slot, then opens a stream. */
  openStream(): Promise<Stream> {
    const stream = this.tryOpenStream();
    return stream ? Promise.resolve(stream) : this.openWhenFree();
  }

  /**
   * Opens a stream at once in the usual case (HELLO done, a slot free, nobody queued for
   * one); `undefined` otherwise, and when the muxer is closed or going away
   * ({@link openStream} then waits, or rejects with the reason).
   */
  tryOpenStream(): Stream | undefined {
    const peer = this.peer;
    if (
      peer &&
      this.localOpen < peer.maxConcurrentStreams &&
      this.slotWaiters.length === 0 &&
      this.wokenWaiters === 0
    ) {
      try {
        return this.openNow();
      } catch {
        // closed or going away: the async path rejects with the same error
      }
    }
    return undefined;
  }

  /** {@link openStream}'s waiting path: for a caller whose {@link tryOpenStream} found no slot. */
  async openWhenFree(): Promise<Stream> {
    const peer = await this.ready;
    while (this.localOpen >= peer.maxConcurrentStreams) {
      this.checkCanOpen();
      await new Promise<void>((resolve, reject) => this.slotWaiters.push({ resolve, reject }));
      this.wokenWaiters--;
    }
    return this.openNow();
  }

  private openNow(): Stream {
    this.checkCanOpen();
    if (this.nextLocalId > MAX_INT31) {
      this.goAway(ReasonCode.NO_ERROR, 'stream ids exhausted');
      this.checkCanOpen();
    }
    const id = this.nextLocalId;
    this.nextLocalId += 2;
    const stream = this.newStream(id, true);
    this.localOpen++;
    return stream;
  }

  private checkCanOpen(): void {
    if (this.closeError) throw this.closeError;
    if (this.isClosed) throw new PeerHttpError(ReasonCode.CONNECTION_CLOSED, 'connection closed');
    if (this.goAwayReceived) {
      throw new PeerHttpError(
        ReasonCode.REFUSED_STREAM,
        `the peer is going away (${reasonName(this.goAwayReceived.code)}${this.goAwayReceived.message ? `: ${this.goAwayReceived.message}` : ''})`,
        { scope: 'stream' },
      );
    }
    if (this.goAwaySent)
      throw new PeerHttpError(ReasonCode.REFUSED_STREAM, 'this session is closing', {
        scope: 'stream',
      });
  }

  private newStream(id: number, local: boolean): Stream {
    const peer = this.peer!;
    const stream = new Stream(
      id,
      local,
      this,
      peer.initialStreamWindow,
      this.hello.initialStreamWindow,
      Math.max(1, Math.floor(this.hello.initialStreamWindow / 2)),
    );
    this.streams.set(id, stream);
    return stream;
  }

  // ----- StreamHost -----

  /**
   * Queues frames for sending. Frames queued in the same turn of the event loop share one
   * message up to the channel's max message size (PROTOCOL.md §1): a small response's
   * HEADERS, DATA and END, or a batch of WINDOW_UPDATEs, cost one message. The queue is
   * written when the turn ends (setImmediate; at the microtask checkpoint in a browser), when
   * the next frame would not fit, before a bulk DATA frame, and before the channel closes.
   */
  sendFrame(...frames: Frame[]): void {
    if (this.isClosed) return;
    for (const frame of frames) this.queueBytes(encode(frame));
  }

  /** Queues a HEADERS frame whose header block is already encoded, and END after it if `end`. */
  sendHeaders(frame: HeadersFrame, block: Uint8Array, end: boolean): void {
    if (this.isClosed) return;
    this.queueBytes(end ? encodeWhole(frame, block, EMPTY) : encodeHeaders(frame, block));
  }

  /**
   * Starts a message (a request or a response) on `stream`: its HEADERS, with END when there
   * is no body, or with a small byte body and END in one buffer when {@link sendWhole} can.
   * True when the message is complete; false when the caller still writes `body` (and END).
   */
  startMessage(
    stream: Stream,
    frame: HeadersFrame,
    block: Uint8Array,
    body: Uint8Array | ReadableStream<Uint8Array> | null,
  ): boolean {
    if (!body) {
      this.sendHeaders(frame, block, true);
      stream.endSent();
      return true;
    }
    if (body instanceof Uint8Array && this.sendWhole(stream, frame, block, body)) return true;
    this.sendHeaders(frame, block, false);
    return false;
  }

  /**
   * Queues a whole small message at once, HEADERS + DATA + END in one buffer, and marks END
   * sent: no outbound entry, no flush, no promise. Only when nothing of the stream is queued,
   * no other stream waits to send, both windows take the body as one DATA frame and the
   * channel's buffer is below the high-water mark; false otherwise (nothing done).
   */
  private sendWhole(
    stream: Stream,
    frame: HeadersFrame,
    block: Uint8Array,
    body: Uint8Array,
  ): boolean {
    const n = body.length;
    const size = 3 * FRAME_HEADER_SIZE + block.length + n;
    if (
      this.isClosed ||
      stream.error ||
      stream.outbound.length > 0 ||
      stream.endQueued ||
      stream.localEnded ||
      this.sendRotation.size > 0 ||
      this.waitingForLow ||
      size >= BULK_FRAME ||
      n > stream.sendWindow ||
      n > this.connSendWindow ||
      n > this.dataChunkSize ||
      !this.bufferHasRoom(size)
    ) {
      return false;
    }
    stream.sendWindow -= n;
    this.connSendWindow -= n;
    this.queueBytes(encodeWhole(frame, block, body));
    stream.endSent();
    return true;
  }

  /**
   * Whether `bytes` more fit under the channel's high-water mark. The muxer counts what it
   * handed to the transport since it last asked ({@link bufferedBound}: the channel's buffer
   * only shrinks meanwhile, so the count is an upper bound) and asks the channel (a native
   * call for node-datachannel) only when that bound says no.
   */
  private bufferHasRoom(bytes: number): boolean {
    const high = this.config.sendHighWaterMark;
    if (this.bufferedBound + this.outBytes + bytes <= high) return true;
    this.bufferedBound = this.transport.bufferedAmount;
    return this.bufferedBound + this.outBytes + bytes <= high;
  }

  /** Bytes queued and not yet handed to the transport. */
  private readonly outQueue: Uint8Array[] = [];
  private outBytes = 0;
  private outScheduled = false;
  /**
   * At least the channel's `bufferedAmount`: its value when last asked plus every byte
   * handed to the transport since (see {@link bufferHasRoom}).
   */
  private bufferedBound = 0;

  private queueBytes(bytes: Uint8Array): void {
    const max = this.transport.maxMessageSize;
    if (bytes.length >= BULK_FRAME || bytes.length > max) {
      // little to gain from coalescing: send it now (after what is queued), without a copy
      this.writeOut();
      this.sendMessage(bytes);
      return;
    }
    if (this.outBytes + bytes.length > max) this.writeOut();
    this.outQueue.push(bytes);
    this.outBytes += bytes.length;
    if (!this.outScheduled) {
      this.outScheduled = true;
      afterTurn(this.writeOutTask);
    }
  }

  private readonly writeOutTask = (): void => {
    this.outScheduled = false;
    this.guard(() => this.writeOut());
  };

  /** Hands the queued frames to the transport as one message. */
  private writeOut(): void {
    const queue = this.outQueue;
    if (queue.length === 0) return;
    let message: Uint8Array;
    if (queue.length === 1) message = queue[0]!;
    else {
      message = new Uint8Array(this.outBytes);
      let offset = 0;
      for (const bytes of queue) {
        message.set(bytes, offset);
        offset += bytes.length;
      }
    }
    queue.length = 0;
    this.outBytes = 0;
    this.sendMessage(message);
  }

  private sendMessage(bytes: Uint8Array): void {
    if (this.transportClosed) return;
    try {
      const max = this.transport.maxMessageSize;
      if (bytes.length <= max) this.transport.send(bytes);
      else
        for (let at = 0; at < bytes.length; at += max)
          this.transport.send(bytes.subarray(at, at + max));
      this.bufferedBound += bytes.length;
    } catch (error) {
      // the channel is going away; onClose reports it
      if (!this.transport.isOpen) return;
      throw error;
    }
  }

  schedule(stream: Stream): void {
    this.sendRotation.add(stream);
    this.flush();
  }

  consumed(_stream: Stream | undefined, bytes: number): void {
    this.connUnacknowledged += bytes;
    if (
      this.connUnacknowledged >= Math.max(1, Math.floor(this.hello.initialConnectionWindow / 2))
    ) {
      const increment = this.connUnacknowledged;
      this.connUnacknowledged = 0;
      this.connRecvWindow += increment;
      this.sendFrame({ type: 'WINDOW_UPDATE', streamId: 0, increment });
    }
  }

  released(stream: Stream): void {
    if (this.streams.get(stream.id) !== stream) return;
    this.streams.delete(stream.id);
    this.sendRotation.delete(stream);
    if (stream.local) {
      this.localOpen--;
      const waiter = this.slotWaiters.shift();
      if (waiter) {
        this.wokenWaiters++; // its slot: not for a caller that comes before it resumes
        waiter.resolve();
      }
    } else {
      this.remoteOpen--;
    }
  }

  // ----- sending DATA -----

  private get dataChunkSize(): number {
    return Math.min(
      this.peer?.maxFrameSize ?? 16384,
      this.transport.maxMessageSize - FRAME_HEADER_SIZE,
    );
  }

  /** Sends queued DATA/END round-robin while windows and the channel's buffer allow. */
  private flush(): void {
    if (this.flushing || this.isClosed || !this.peer) return;
    this.flushing = true;
    // The channel is asked at most once per flush, and only when the bound is over the mark.
    let asked = false;
    try {
      while (this.sendRotation.size > 0) {
        if (this.bufferedBound + this.outBytes > this.config.sendHighWaterMark) {
          if (asked || !this.bufferHasRoom(0)) {
            this.waitingForLow = true;
            return;
          }
          asked = true;
        }
        const stream = this.sendRotation.values().next().value!;
        this.sendRotation.delete(stream);
        const item = stream.outbound[0];
        if (!item) {
          if (stream.endQueued && !stream.localEnded && !stream.error) {
            this.sendFrame({ type: 'END', streamId: stream.id });
            stream.endSent();
          }
          continue;
        }
        const remaining = item.data.length - item.offset;
        const n = Math.min(remaining, stream.sendWindow, this.connSendWindow, this.dataChunkSize);
        if (n <= 0) {
          if (stream.sendWindow > 0) {
            // the connection window is empty: everybody waits for a connection WINDOW_UPDATE
            this.sendRotation.add(stream);
            return;
          }
          continue; // this stream waits for its own WINDOW_UPDATE
        }
        const data = item.data.subarray(item.offset, item.offset + n);
        stream.sendWindow -= n;
        this.connSendWindow -= n;
        item.offset += n;
        if (n + FRAME_HEADER_SIZE >= BULK_FRAME) {
          this.sendBulkData(stream.id, data);
        } else {
          this.sendFrame({ type: 'DATA', streamId: stream.id, data });
        }
        if (item.offset === item.data.length) {
          stream.outbound.shift();
          item.resolve();
        }
        if (stream.hasOutbound) this.sendRotation.add(stream);
      }
    } finally {
      this.flushing = false;
    }
  }

  /** Reused for bulk DATA frames when the transport copies what it is given. */
  private bulkBuffer: Uint8Array | undefined;

  /**
   * Sends a DATA frame of at least {@link BULK_FRAME} bytes on its own, after what is queued.
   * A transport that copies on send gets it written into one reused buffer: no allocation
   * (and no garbage) per 64 KiB frame on the sending side.
   */
  private sendBulkData(streamId: number, data: Uint8Array): void {
    if (this.isClosed) return;
    this.writeOut();
    if (this.transport.copiesOnSend !== true) {
      this.sendMessage(encode({ type: 'DATA', streamId, data }));
      return;
    }
    const size = FRAME_HEADER_SIZE + data.length;
    if (this.bulkBuffer === undefined || this.bulkBuffer.length < size) {
      this.bulkBuffer = new Uint8Array(Math.max(size, FRAME_HEADER_SIZE + this.dataChunkSize));
    }
    this.sendMessage(encodeDataInto(this.bulkBuffer, streamId, data));
  }

  private onLow(): void {
    if (!this.waitingForLow) return;
    this.waitingForLow = false;
    this.flush();
  }

  // ----- receiving -----

  /** Runs a transport callback; nothing may escape into the channel. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      const failure =
        error instanceof PeerHttpError && error.scope === 'connection'
          ? error
          : new PeerHttpError(ReasonCode.INTERNAL_ERROR, 'internal error', { cause: error });
      this.fail(failure, true);
    }
  }

  private onMessage(message: Uint8Array): void {
    if (this.isClosed) return;
    this.received++;
    this.decoder.write(message);
    for (let frame = this.decoder.next(); frame; frame = this.decoder.next()) {
      this.dispatch(frame);
      if (this.isClosed) return;
    }
    // What this message caused at once (a PONG, a synchronous reply) goes out now, as a raw
    // echo would, not at the end of the turn: a reply sent later costs more than the wait
    // on a machine whose idle threads wake slowly (docs/performance.md).
    this.writeOut();
  }

  private dispatch(frame: DecodedFrame): void {
    if (!this.peer) {
      if (frame.type !== 'HELLO') throw this.protocolError(`expected HELLO, got ${frame.type}`);
      this.onHello(frame);
      return;
    }
    switch (frame.type) {
      case 'HELLO':
        throw this.protocolError('second HELLO');
      case 'PING':
        this.sendFrame({ type: 'PONG', data: frame.data });
        return;
      case 'PONG': {
        const pending = this.pings.get(hex(frame.data));
        if (pending) {
          this.pings.delete(hex(frame.data));
          this.rtt = performance.now() - pending.sentAt;
          pending.resolve(this.rtt);
        }
        return;
      }
      case 'GOAWAY':
        this.onGoAway(frame);
        return;
      case 'WINDOW_UPDATE':
        if (frame.streamId === 0) {
          if (this.connSendWindow + frame.increment > MAX_INT31) {
            throw new PeerHttpError(ReasonCode.FLOW_CONTROL_ERROR, 'connection window overflow');
          }
          this.connSendWindow += frame.increment;
          this.flush();
          return;
        }
        this.onStreamFrame(frame);
        return;
      case 'DATA':
        if (frame.data.length > this.connRecvWindow) {
          throw new PeerHttpError(
            ReasonCode.FLOW_CONTROL_ERROR,
            'DATA beyond the connection window',
          );
        }
        this.connRecvWindow -= frame.data.length;
        if (!this.onStreamFrame(frame)) {
          this.consumed(undefined, frame.data.length); // closed stream: credit it back
        }
        return;
      case 'END':
        this.onStreamFrame(frame);
        return;
      case 'RESET':
        this.onStreamFrame(frame);
        return;
      case 'HEADERS':
      case 'HEADERS_REJECTED':
        this.onHeaders(frame);
        return;
    }
  }

  private onHello(hello: HelloFrame): void {
    const ours = this.hello.tiebreaker;
    let order = 0;
    for (let i = 0; i < 8 && order === 0; i++) order = ours[i]! - hello.tiebreaker[i]!;
    if (order === 0) throw this.protocolError('equal HELLO tiebreakers');
    this.peer = hello;
    this.nextLocalId = order > 0 ? 1 : 2;
    this.connSendWindow = hello.initialConnectionWindow;
    this.resolveReady(hello);
  }

  private isOwnId(id: number): boolean {
    return id % 2 === this.nextLocalId % 2;
  }

  /**
   * Routes a frame to its stream (no closure per frame); returns false when the stream is
   * closed (the frame is ignored). A stream error fails that stream only.
   */
  private onStreamFrame(frame: StreamFrame): boolean {
    const id = frame.streamId;
    const stream = this.streams.get(id);
    if (!stream) {
      const known = this.isOwnId(id) ? id < this.nextLocalId : id <= this.lastRemoteId;
      if (!known) throw this.protocolError(`frame on idle stream ${id}`);
      return false;
    }
    try {
      switch (frame.type) {
        case 'DATA':
          stream.receiveData(frame.data);
          break;
        case 'END':
          stream.receiveEnd();
          break;
        case 'RESET':
          stream.receiveReset(frame.code);
          break;
        case 'WINDOW_UPDATE':
          stream.addSendWindow(frame.increment);
          break;
        case 'HEADERS':
          stream.receiveHeaders(frame);
          break;
        case 'HEADERS_REJECTED':
          throw new PeerHttpError(frame.code, `stream ${id}: ${frame.reason}`, { scope: 'stream' });
      }
    } catch (error) {
      if (error instanceof PeerHttpError && error.scope === 'stream') stream.fail(error, true);
      else throw error;
    }
    return true;
  }

  private onHeaders(frame: Extract<DecodedFrame, { type: 'HEADERS' | 'HEADERS_REJECTED' }>): void {
    const id = frame.streamId;
    const existing = this.streams.get(id);
    const isResponse =
      frame.type === 'HEADERS_REJECTED' ? frame.response : frame.kind === 'response';
    if (existing || this.isOwnId(id) || id <= this.lastRemoteId) {
      this.onStreamFrame(frame);
      return;
    }
    // a new stream from the peer
    if (isResponse) throw this.protocolError(`response HEADERS on idle stream ${id}`);
    this.lastRemoteId = id;
    if (!this.acceptingStreams) {
      this.sendFrame({ type: 'RESET', streamId: id, code: ReasonCode.REFUSED_STREAM });
      return;
    }
    if (this.remoteOpen >= this.hello.maxConcurrentStreams) {
      this.sendFrame({ type: 'RESET', streamId: id, code: ReasonCode.REFUSED_STREAM });
      return;
    }
    const stream = this.newStream(id, false);
    this.remoteOpen++;
    if (frame.type === 'HEADERS_REJECTED') {
      if (frame.code !== ReasonCode.HEADER_TOO_LARGE) {
        stream.fail(
          new PeerHttpError(frame.code, `stream ${id}: ${frame.reason}`, { scope: 'stream' }),
          true,
        );
        return;
      }
      // treat as a request without a usable header block; session answers 431
      stream.remoteHeaders = {
        type: 'HEADERS',
        streamId: id,
        kind: 'request',
        method: 'GET',
        target: '/',
        headers: [],
      };
      this.onStream?.({ stream, rejected: frame });
      return;
    }
    if (frame.kind === 'request') {
      stream.receiveHeaders(frame);
      if (this.onStream) this.onStream({ stream, request: frame });
      else
        stream.fail(
          new PeerHttpError(ReasonCode.REFUSED_STREAM, 'no handler', { scope: 'stream' }),
          true,
        );
    }
  }

  // ----- PING, timers -----

  /** Sends a PING and resolves with the round-trip time in ms. */
  async ping(): Promise<number> {
    await this.ready;
    if (this.closeError) throw this.closeError;
    // 8 opaque bytes (PROTOCOL.md §8.1): a counter is unique per connection and, unlike
    // crypto.getRandomValues (≈ 10 µs a call in Node 20), costs nothing
    const data = new Uint8Array(8);
    const seq = ++this.pingSeq;
    data[4] = seq >>> 24;
    data[5] = seq >>> 16;
    data[6] = seq >>> 8;
    data[7] = seq;
    return new Promise<number>((resolve, reject) => {
      this.pings.set(hex(data), { sentAt: performance.now(), resolve, reject });
      this.sendFrame({ type: 'PING', data });
    });
  }

  private armTimer(): void {
    const { keepAliveInterval, idleTimeout } = this.config;
    const periods = [keepAliveInterval, idleTimeout].filter((p) => p > 0);
    if (periods.length === 0 || this.isClosed) return;
    const period = Math.max(10, Math.min(...periods) / 3);
    this.timer = unref(
      setTimeout(() => {
        this.guard(() => {
          const now = Date.now();
          if (this.received !== this.receivedAtTick) {
            this.receivedAtTick = this.received;
            this.lastReceived = now;
          }
          const silent = now - this.lastReceived;
          if (idleTimeout > 0 && silent >= idleTimeout) {
            this.fail(
              new PeerHttpError(ReasonCode.IDLE_TIMEOUT, `nothing received for ${silent} ms`),
              true,
            );
            return;
          }
          // safety net: a missed bufferedamountlow event must not stall DATA forever
          if (this.waitingForLow && this.transport.bufferedAmount <= this.config.sendLowWaterMark) {
            this.onLow();
          }
          if (
            keepAliveInterval > 0 &&
            silent >= keepAliveInterval &&
            this.peer &&
            this.pings.size === 0
          ) {
            this.ping().catch(() => undefined);
          }
          this.armTimer();
        });
      }, period),
    );
  }

  // ----- GOAWAY, closing -----

  private onGoAway(frame: { lastStreamId: number; code: number; message: string }): void {
    this.goAwayReceived = frame;
    const error = new PeerHttpError(
      frame.code === ReasonCode.NO_ERROR ? ReasonCode.REFUSED_STREAM : frame.code,
      `the peer sent GOAWAY ${reasonName(frame.code)}${frame.message ? `: ${frame.message}` : ''}`,
      { scope: 'stream' },
    );
    for (const stream of [...this.streams.values()]) {
      if (stream.local && stream.id > frame.lastStreamId) stream.fail(error, false);
    }
    for (const waiter of this.slotWaiters.splice(0)) waiter.reject(error);
    if (frame.code !== ReasonCode.NO_ERROR) {
      this.closeError = new PeerHttpError(
        frame.code,
        frame.message || `the peer closed the connection (${reasonName(frame.code)})`,
      );
    }
  }

  /** Sends GOAWAY (once): no new streams from the peer beyond those already seen. */
  goAway(code: number, message: string): void {
    if (this.goAwaySent) return;
    this.goAwaySent = true;
    this.sendFrame({ type: 'GOAWAY', lastStreamId: this.lastRemoteId, code, message });
  }

  /** Graceful close: GOAWAY NO_ERROR, then the channel closes; open streams fail. */
  close(): Promise<void> {
    if (!this.isClosed) {
      this.goAway(ReasonCode.NO_ERROR, '');
      this.fail(new PeerHttpError(ReasonCode.CONNECTION_CLOSED, 'session closed'), false);
    }
    return this.closed;
  }

  private protocolError(message: string): PeerHttpError {
    return new PeerHttpError(ReasonCode.PROTOCOL_ERROR, message);
  }

  /** Connection failure: GOAWAY (when `tell`), close the channel, fail everything. */
  private fail(error: PeerHttpError, tell: boolean): void {
    if (this.isClosed) return;
    if (tell && error.code < 0x100) this.goAway(error.code, error.message);
    this.closeError ??= error;
    this.shutdown();
    try {
      this.writeOut(); // GOAWAY and whatever else is queued, before the channel closes
    } catch {
      // the channel is already failing
    }
    try {
      this.transport.close();
    } catch {
      // already closed
    }
  }

  private onTransportClose(error?: Error): void {
    this.transportClosed = true;
    if (!this.closeError) {
      this.closeError = new PeerHttpError(
        ReasonCode.CONNECTION_CLOSED,
        error ? `connection lost: ${error.message}` : 'connection closed by the peer',
        { cause: error },
      );
    }
    this.shutdown();
    this.resolveClosed();
  }

  private shutdown(): void {
    if (this.isClosed) {
      return;
    }
    this.isClosed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    const error = this.closeError!;
    this.rejectReady(error);
    for (const stream of [...this.streams.values()]) stream.fail(error, false);
    for (const waiter of this.slotWaiters.splice(0)) waiter.reject(error);
    for (const ping of this.pings.values()) ping.reject(error);
    this.pings.clear();
    this.sendRotation.clear();
  }
}
