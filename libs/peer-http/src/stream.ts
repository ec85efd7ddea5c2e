/**
 * One stream (PROTOCOL.md §6–§7): its state machine, its two flow-control windows, its
 * outbound queue (drained by the muxer) and its inbound body as a pull-based
 * `ReadableStream` whose reads return credit to the peer.
 */
import { PeerHttpError, ReasonCode, reasonName } from './errors.js';
import { MAX_INT31, type Frame, type HeadersFrame } from './frame.js';

export type StreamState = 'open' | 'half-closed-local' | 'half-closed-remote' | 'closed';

/** What a stream needs from its muxer. */
export interface StreamHost {
  /** Sends control frames now (HEADERS, RESET, WINDOW_UPDATE), several in one message. */
  sendFrame(...frames: Frame[]): void;
  /** The stream has queued DATA or END: add it to the send rotation. */
  schedule(stream: Stream): void;
  /** `bytes` of this stream's received DATA were consumed or discarded. */
  consumed(stream: Stream, bytes: number): void;
  /** The stream reached `closed`. */
  released(stream: Stream): void;
}

interface Outbound {
  data: Uint8Array;
  offset: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** The error a fetch caller or a body reader sees for a protocol failure: a TypeError like fetch's. */
export function networkError(error: PeerHttpError): TypeError {
  return new TypeError(`peer-http: ${error.message} (${reasonName(error.code)})`, { cause: error });
}

const ignore = (): void => undefined;

const NONE: readonly never[] = [];

/** Empties `list` and returns what it held; no new array when it is empty (the usual case). */
function takeAll<T>(list: T[]): readonly T[] {
  return list.length === 0 ? NONE : list.splice(0);
}

/** `readerError` of a body its reader cancelled (or nobody will read). */
const CANCELLED = Symbol('cancelled');

export class Stream {
  state: StreamState = 'open';
  /** Credit we may still send on this stream. */
  sendWindow: number;
  /** Credit the peer still has on this stream. */
  recvWindow: number;
  /** Consumed bytes not yet returned with WINDOW_UPDATE. */
  unacknowledged = 0;
  readonly outbound: Outbound[] = [];
  /** END queued behind the outbound data. */
  endQueued = false;
  /** Set once the stream failed (reset either way, or connection lost). */
  error: PeerHttpError | undefined;
  /** The peer's HEADERS (request for remote streams, response for local ones). */
  remoteHeaders: HeadersFrame | undefined;
  /** Called once when the stream reaches `closed`, normally or not. */
  onClosed: (() => void) | undefined;
  /** Called once if the stream fails before it closed normally. */
  onFail: ((error: PeerHttpError) => void) | undefined;
  private failListeners: Array<(error: PeerHttpError) => void> = [];
  private sendStopped: PeerHttpError | undefined;
  private readonly inbound: Uint8Array[] = [];
  /** Set while {@link collect} gathers the body (instead of a `ReadableStream`). */
  private collector:
    | {
        chunks: Uint8Array[];
        resolve: (chunks: Uint8Array[]) => void;
        reject: (e: unknown) => void;
      }
    | undefined;
  private collected = false;
  private remoteEnded = false;
  private body: ReadableStream<Uint8Array> | undefined;
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  private pullWaiting: (() => void) | undefined;
  private readerError: unknown;
  private headersWaiters: Array<{
    resolve: (h: HeadersFrame) => void;
    reject: (e: unknown) => void;
  }> = [];
  private endWaiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];

  constructor(
    readonly id: number,
    /** Opened by this side (it sends the request). */
    readonly local: boolean,
    private readonly host: StreamHost,
    sendWindow: number,
    recvWindow: number,
    private readonly windowUpdateThreshold: number,
  ) {
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
  }

  /**
   * The inbound body, pull-based: each read returns credit to the peer. Created on first
   * use (a GET's empty request body never needs one: a `ReadableStream` is not free).
   */
  get readable(): ReadableStream<Uint8Array> {
    if (this.body) return this.body;
    if (this.collected) {
      // like a used Response body: there, but reading it fails
      this.body = new ReadableStream<Uint8Array>({
        start: (controller) =>
          controller.error(new TypeError('peer-http: the body was already read')),
      });
      return this.body;
    }
    this.body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        pull: () => this.pull(),
        cancel: () => this.cancelRead(),
      },
      { highWaterMark: 0 },
    );
    if (this.readerError === CANCELLED) this.controller!.close();
    else if (this.readerError !== undefined) this.controller!.error(this.readerError);
    return this.body;
  }

  /** Whether {@link readable} was made (then the body is read through it). */
  get hasReadable(): boolean {
    return this.body !== undefined;
  }

  /**
   * The whole inbound body without a `ReadableStream` (a stream is not free: the core API's
   * `bytes()` uses this). Chunks are taken, and their credit returned, as they arrive;
   * resolves at END, rejects as a body reader would. Once only, and not after `readable`.
   */
  collect(): Promise<Uint8Array[]> {
    if (this.body || this.collected) {
      return Promise.reject(new TypeError('peer-http: the body was already read'));
    }
    this.collected = true;
    if (this.readerError === CANCELLED) return Promise.resolve([]);
    // what a body reader would get: a TypeError, or the abort reason the caller chose
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    if (this.readerError !== undefined) return Promise.reject(this.readerError);
    return new Promise((resolve, reject) => {
      this.collector = { chunks: [], resolve, reject };
      this.deliver();
    });
  }

  get localEnded(): boolean {
    return this.state === 'half-closed-local' || this.state === 'closed';
  }

  get hasRemoteEnded(): boolean {
    return this.remoteEnded;
  }

  /** Whether DATA or END waits to be sent. */
  get hasOutbound(): boolean {
    return this.outbound.length > 0 || (this.endQueued && !this.localEnded);
  }

  // ----- outbound -----

  /** Queues body bytes; resolves once they were all handed to the transport. */
  write(data: Uint8Array): Promise<void> {
    const refused = this.writeRefusal();
    if (refused) return Promise.reject(refused);
    if (data.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.outbound.push({ data, offset: 0, resolve, reject });
      this.host.schedule(this);
    });
  }

  /**
   * Queues a whole body and END after it; resolves once END was sent. One promise instead of
   * a write's and an end's: a small response's common case.
   */
  writeAll(data: Uint8Array): Promise<void> {
    const refused = this.writeRefusal();
    if (refused) return Promise.reject(refused);
    // a failure rejects the END's promise (and this entry with it)
    if (data.length > 0) this.outbound.push({ data, offset: 0, resolve: ignore, reject: ignore });
    return this.end();
  }

  /** Why body bytes cannot be queued now (the stream failed, or END is queued or sent). */
  private writeRefusal(): PeerHttpError | undefined {
    if (this.error) return this.error;
    if (this.endQueued || this.localEnded) {
      return new PeerHttpError(ReasonCode.STREAM_CLOSED, 'write after end', { scope: 'stream' });
    }
    return undefined;
  }

  /** Queues END after the pending data; resolves once END was sent. */
  end(): Promise<void> {
    if (this.error) return Promise.reject(this.error);
    if (this.localEnded) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => this.endWaiters.push({ resolve, reject }));
    if (!this.endQueued) {
      this.endQueued = true;
      this.host.schedule(this);
    }
    return done;
  }

  /** Called by the muxer after it sent END. */
  endSent(): void {
    this.transition('local');
    for (const waiter of takeAll(this.endWaiters)) waiter.resolve();
  }

  // ----- inbound -----

  /** Waits for the peer's HEADERS. */
  headers(): Promise<HeadersFrame> {
    if (this.remoteHeaders) return Promise.resolve(this.remoteHeaders);
    if (this.error) return Promise.reject(this.error);
    return new Promise((resolve, reject) => this.headersWaiters.push({ resolve, reject }));
  }

  receiveHeaders(frame: HeadersFrame): void {
    if (this.remoteEnded) {
      throw new PeerHttpError(ReasonCode.STREAM_CLOSED, `HEADERS after END on stream ${this.id}`, {
        scope: 'stream',
      });
    }
    const expected = this.local ? 'response' : 'request';
    if (this.remoteHeaders || frame.kind !== expected) {
      throw new PeerHttpError(
        ReasonCode.PROTOCOL_ERROR,
        `unexpected ${frame.kind} HEADERS on stream ${this.id}`,
        {
          scope: 'stream',
        },
      );
    }
    this.remoteHeaders = frame;
    for (const waiter of takeAll(this.headersWaiters)) waiter.resolve(frame);
  }

  /** Accepts DATA (the muxer already checked the connection window). */
  receiveData(data: Uint8Array): void {
    if (this.remoteEnded) {
      throw new PeerHttpError(ReasonCode.STREAM_CLOSED, `DATA after END on stream ${this.id}`, {
        scope: 'stream',
      });
    }
    if (!this.remoteHeaders) {
      throw new PeerHttpError(
        ReasonCode.PROTOCOL_ERROR,
        `DATA before HEADERS on stream ${this.id}`,
        {
          scope: 'stream',
        },
      );
    }
    if (data.length > this.recvWindow) {
      throw new PeerHttpError(
        ReasonCode.FLOW_CONTROL_ERROR,
        `DATA beyond the window of stream ${this.id}`,
        {
          scope: 'stream',
        },
      );
    }
    this.recvWindow -= data.length;
    if (data.length === 0) return;
    if (this.readerError !== undefined) {
      this.credit(data.length); // nobody reads: discard, but give the credit back
      return;
    }
    this.inbound.push(data);
    this.deliver();
  }

  receiveEnd(): void {
    if (this.remoteEnded) {
      throw new PeerHttpError(ReasonCode.STREAM_CLOSED, `END after END on stream ${this.id}`, {
        scope: 'stream',
      });
    }
    if (!this.remoteHeaders) {
      throw new PeerHttpError(
        ReasonCode.PROTOCOL_ERROR,
        `END before HEADERS on stream ${this.id}`,
        {
          scope: 'stream',
        },
      );
    }
    this.remoteEnded = true;
    this.deliver();
    this.transition('remote');
  }

  /** Credit from WINDOW_UPDATE. */
  addSendWindow(increment: number): void {
    if (this.sendWindow + increment > MAX_INT31) {
      throw new PeerHttpError(
        ReasonCode.FLOW_CONTROL_ERROR,
        `window overflow on stream ${this.id}`,
        {
          scope: 'stream',
        },
      );
    }
    this.sendWindow += increment;
    if (this.outbound.length > 0) this.host.schedule(this);
  }

  // ----- failure -----

  /**
   * Fails the stream: rejects pending writes and header waits, errors the body reader
   * with `readerReason` (default: a TypeError whose cause is `error`), and closes it.
   * Sends RESET with `error.code` when `sendReset` (not for a RESET received or a lost
   * connection).
   */
  fail(
    error: PeerHttpError,
    sendReset: boolean,
    readerReason: unknown = networkError(error),
  ): void {
    if (this.error || this.state === 'closed') return;
    this.error = error;
    if (sendReset)
      this.host.sendFrame({
        type: 'RESET',
        streamId: this.id,
        code: error.code < 0x100 ? error.code : ReasonCode.CANCEL,
      });
    for (const item of takeAll(this.outbound)) item.reject(error);
    for (const waiter of takeAll(this.headersWaiters)) waiter.reject(error);
    for (const waiter of takeAll(this.endWaiters)) waiter.reject(error);
    if (!this.remoteEnded) {
      // a complete body stays readable; an incomplete one is dropped (credit back to the connection)
      const queued = this.inbound.splice(0).reduce((n, chunk) => n + chunk.length, 0);
      if (queued > 0) this.host.consumed(this, queued);
    }
    if (!this.remoteEnded && this.readerError === undefined) {
      this.readerError = readerReason;
      try {
        this.controller?.error(readerReason);
      } catch {
        // already closed
      }
      this.collector?.reject(readerReason);
      this.collector = undefined;
    }
    this.pullWaiting?.();
    this.pullWaiting = undefined;
    this.state = 'closed';
    this.onFail?.(error);
    this.stopSending(error);
    this.released();
  }

  /**
   * Runs `listener` once when nothing more can be sent on this stream: it failed (reset
   * either way, connection lost) or the peer stopped reading our body (RESET NO_ERROR after
   * its response). At once if that already happened. Returns a function that removes it.
   * The layer above stops its body source here, not when the next chunk fails to send: a
   * stalled source would otherwise never be cancelled.
   */
  whenSendStopped(listener: (error: PeerHttpError) => void): () => void {
    if (this.sendStopped) {
      listener(this.sendStopped);
      return () => undefined;
    }
    this.failListeners.push(listener);
    return () => {
      const at = this.failListeners.indexOf(listener);
      if (at >= 0) this.failListeners.splice(at, 1);
    };
  }

  /** A RESET arrived. */
  receiveReset(code: number): void {
    const error = new PeerHttpError(code, `stream ${this.id} reset by the peer`, {
      scope: 'stream',
    });
    if (code === ReasonCode.NO_ERROR && this.local && this.remoteEnded) {
      // PROTOCOL.md §6.2: the response is complete; the peer only stops reading our body.
      for (const item of takeAll(this.outbound)) item.reject(error);
      for (const waiter of takeAll(this.endWaiters)) waiter.reject(error);
      this.endQueued = true;
      this.state = 'closed';
      this.stopSending(error);
      this.released();
      return;
    }
    this.fail(error, false);
  }

  private stopSending(error: PeerHttpError): void {
    this.sendStopped ??= error;
    for (const listener of takeAll(this.failListeners)) listener(error);
  }

  // ----- body reader -----

  private pull(): Promise<void> | void {
    if (this.deliverOne()) return;
    if (this.readerError !== undefined || this.state === 'closed') return;
    return new Promise<void>((resolve) => {
      this.pullWaiting = resolve;
    });
  }

  private deliver(): void {
    const collector = this.collector;
    if (collector) {
      for (let chunk = this.inbound.shift(); chunk; chunk = this.inbound.shift()) {
        collector.chunks.push(chunk);
        this.credit(chunk.length);
      }
      if (this.remoteEnded) {
        this.collector = undefined;
        collector.resolve(collector.chunks);
      }
      return;
    }
    if (this.pullWaiting && this.deliverOne()) {
      const resolve = this.pullWaiting;
      this.pullWaiting = undefined;
      resolve();
    }
  }

  /** Hands one chunk (or the end) to a waiting reader; false if there is nothing yet. */
  private deliverOne(): boolean {
    if (this.readerError !== undefined) return true;
    const controller = this.controller!; // only called once the body exists
    const chunk = this.inbound.shift();
    if (chunk) {
      controller.enqueue(chunk);
      this.credit(chunk.length);
      if (this.inbound.length === 0 && this.remoteEnded) controller.close();
      return true;
    }
    if (this.remoteEnded) {
      try {
        controller.close();
      } catch {
        // already closed
      }
      return true;
    }
    return false;
  }

  private credit(bytes: number): void {
    this.host.consumed(this, bytes);
    if (this.remoteEnded || this.state === 'closed') return;
    this.unacknowledged += bytes;
    if (this.unacknowledged >= this.windowUpdateThreshold) {
      const increment = this.unacknowledged;
      this.unacknowledged = 0;
      this.recvWindow += increment;
      this.host.sendFrame({ type: 'WINDOW_UPDATE', streamId: this.id, increment });
    }
  }

  /**
   * The reader cancelled the body. A client no longer wants the response: RESET CANCEL. A
   * server that stops reading a request body keeps the stream (it still responds): further
   * DATA is discarded and credited back.
   */
  private cancelRead(): void {
    if (this.readerError !== undefined) return;
    this.readerError = CANCELLED;
    this.collector?.reject(new TypeError('peer-http: the body was discarded'));
    this.collector = undefined;
    const queued = this.inbound.splice(0).reduce((n, chunk) => n + chunk.length, 0);
    if (queued > 0) this.credit(queued);
    if (this.local && !this.remoteEnded && this.state !== 'closed') {
      this.fail(
        new PeerHttpError(ReasonCode.CANCEL, `stream ${this.id} cancelled by the reader`, {
          scope: 'stream',
        }),
        true,
      );
    }
  }

  /** Discards the inbound body (nobody will read it), returning its credit as it arrives. */
  discardBody(): void {
    if (this.readerError !== undefined) return;
    if (this.body) void this.body.cancel().catch(() => undefined);
    else this.cancelRead(); // no ReadableStream was made: none is needed
  }

  private released(): void {
    this.host.released(this);
    const onClosed = this.onClosed;
    this.onClosed = undefined;
    onClosed?.();
  }

  private transition(side: 'local' | 'remote'): void {
    if (this.state === 'closed') return;
    if (side === 'local') {
      this.state = this.state === 'half-closed-remote' ? 'closed' : 'half-closed-local';
    } else {
      this.state = this.state === 'half-closed-local' ? 'closed' : 'half-closed-remote';
    }
    if (this.state === 'closed') this.released();
  }
}
