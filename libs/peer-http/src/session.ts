/**
 * The session layer: both a client and a server over one {@link Transport}. Two APIs share
 * one path: the core API (`request()`, `coreHandler`: header lists and byte bodies, no
 * WHATWG objects) and the fetch API on top of it (`fetch()`, `handler`: `Request`/`Response`,
 * PROTOCOL.md §10), as node:http2 has a core and a compatibility API.
 */
import { verifyConfig, type PeerHttpConfig } from './config.js';
import { Deadlines } from './deadlines.js';
import { encodeHeaderBlock } from './encode.js';
import { PeerHttpError, ReasonCode } from './errors.js';
import type { HeaderList, RequestHeadersFrame, ResponseHeadersFrame } from './frame.js';
import { Muxer, type IncomingStream } from './muxer.js';
import { networkError, type Stream } from './stream.js';
import type { Transport } from './transport.js';

/** A fetch-style request handler. */
export type PeerHttpHandler = (request: Request) => Response | Promise<Response>;

/** A body for the core API: bytes, a string (sent as UTF-8) or a stream of bytes. */
export type PeerCoreBody = Uint8Array | string | ReadableStream<Uint8Array>;

/** A request for {@link PeerHttpSession.request}: the wire fields themselves. */
export interface PeerRequestInit {
  /** An HTTP method token; the usual ones are upper-cased (`get` → `GET`) as fetch does. */
  method?: string;
  /** Origin-form target: path and query (`/api/x?y=1`). */
  target: string;
  /** Field names in lower case; hop-by-hop fields (and those `connection` names) are dropped. */
  headers?: HeaderList;
  /** Not for GET/HEAD. No content-type is added: send the fields you mean. */
  body?: PeerCoreBody | null;
  signal?: AbortSignal;
  /** ms until the response headers (default `requestTimeout`; 0: none). */
  timeout?: number;
}

/** A received body: a stream made on first use, or read whole. */
export interface PeerBodyReader {
  /** `null` for a null-body status (204, 205, 304) or a GET/HEAD request. */
  readonly body: ReadableStream<Uint8Array> | null;
  /** The whole body (an empty array for none). Reads the stream: once only. */
  bytes(): Promise<Uint8Array>;
  /** The whole body as UTF-8. */
  text(): Promise<string>;
}

/** A response from {@link PeerHttpSession.request}. */
export interface PeerResponse extends PeerBodyReader {
  readonly status: number;
  /** As received, minus hop-by-hop fields. */
  readonly headers: HeaderList;
}

/** A request as a {@link PeerCoreHandler} sees it. */
export interface PeerRequest extends PeerBodyReader {
  readonly method: string;
  readonly target: string;
  /** As received, minus hop-by-hop fields. */
  readonly headers: HeaderList;
  /** Aborted when the client resets the stream or the connection drops. */
  readonly signal: AbortSignal;
}

/** What a {@link PeerCoreHandler} answers. */
export interface PeerReply {
  /** 200–599. */
  status: number;
  headers?: HeaderList;
  body?: PeerCoreBody | null;
}

/** A core-API request handler: header lists and bodies, no `Request`/`Response`. */
export type PeerCoreHandler = (request: PeerRequest) => PeerReply | Promise<PeerReply>;

export interface PeerHttpOptions extends Partial<PeerHttpConfig> {
  /** Serves the requests the peer sends (without a handler, they are refused). */
  handler?: PeerHttpHandler | undefined;
  /** Serves them with the core API instead (one of `handler` and `coreHandler`). */
  coreHandler?: PeerCoreHandler | undefined;
  /** Told about handler failures (a thrown error becomes a bare 500 for the peer). */
  onError?: ((error: unknown, request: Request | PeerRequest | undefined) => void) | undefined;
}

/** `RequestInit` plus a per-request timeout (ms until the response headers; 0: none). */
export interface PeerFetchInit extends RequestInit {
  timeout?: number;
}

/** A body for the convenience methods: any fetch body, or a plain object/array sent as JSON. */
export type PeerBody = BodyInit | null | Record<string, unknown> | readonly unknown[];

export interface PeerHttpSession {
  /**
   * A request with the core API: the method, target and header list as sent, the response's
   * as received; no `Request`/`Response` objects. Fails like `fetch`.
   */
  request(init: PeerRequestInit): Promise<PeerResponse>;
  /** WHATWG fetch over the channel. Relative URLs are fine (`/api/info`); the origin is ignored. */
  fetch(input: string | URL | Request, init?: PeerFetchInit): Promise<Response>;
  get(url: string | URL, init?: PeerFetchInit): Promise<Response>;
  delete(url: string | URL, init?: PeerFetchInit): Promise<Response>;
  post(url: string | URL, body?: PeerBody, init?: PeerFetchInit): Promise<Response>;
  put(url: string | URL, body?: PeerBody, init?: PeerFetchInit): Promise<Response>;
  /** Round-trip time in ms, measured with PING/PONG. */
  ping(): Promise<number>;
  /** Sends GOAWAY and closes the channel; open requests fail. Resolves once closed. */
  close(): Promise<void>;
  /** Resolves when the peer's HELLO arrived (rejects if the connection failed first). */
  readonly ready: Promise<void>;
  /** Resolves when the channel has closed, for whatever reason. */
  readonly closed: Promise<void>;
  /** Why the connection ended (undefined while open). */
  readonly closeReason: PeerHttpError | undefined;
  /** Last measured round-trip time in ms. */
  readonly rtt: number | undefined;
  /** The limits the peer advertised, once known. */
  readonly peerLimits:
    | {
        maxFrameSize: number;
        maxHeaderBytes: number;
        maxConcurrentStreams: number;
        initialStreamWindow: number;
        initialConnectionWindow: number;
      }
    | undefined;
}

/** Connection-specific fields: never forwarded (PROTOCOL.md §5.1). */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
]);
const NULL_BODY_STATUS = new Set([204, 205, 304]);
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();
const NORMALIZED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH']);

/** Header fields to send: minus hop-by-hop ones and those the `connection` field names. */
function sendableFields(list: HeaderList): HeaderList {
  let hopByHop = false;
  let listed: Set<string> | undefined;
  for (const [name, value] of list) {
    if (!HOP_BY_HOP.has(name)) continue;
    hopByHop = true;
    if (name === 'connection') {
      listed ??= new Set();
      for (const token of value.split(',')) {
        const field = token.trim().toLowerCase();
        if (field) listed.add(field);
      }
    }
  }
  if (!hopByHop) return list; // the usual case: the list as it is
  return list.filter(([name]) => !HOP_BY_HOP.has(name) && !listed?.has(name));
}

/** The fields of a `Headers` to send (one `set-cookie` field per cookie). */
function headerList(headers: Headers): HeaderList {
  const list: HeaderList = [];
  let cookies = false;
  headers.forEach((value, name) => {
    if (name === 'set-cookie')
      cookies = true; // handled below, one field per cookie
    else list.push([name, value]);
  });
  if (cookies) for (const cookie of headers.getSetCookie()) list.push(['set-cookie', cookie]);
  return sendableFields(list);
}

/** A core-API header list from outside: an array of `[name, value]` string pairs. */
function checkHeaderList(list: unknown, what: string): HeaderList {
  if (list === undefined) return [];
  if (
    !Array.isArray(list) ||
    !list.every(
      (field) =>
        Array.isArray(field) &&
        field.length === 2 &&
        typeof field[0] === 'string' &&
        typeof field[1] === 'string',
    )
  ) {
    throw new TypeError(`peer-http: ${what} must be an array of [name, value] string pairs`);
  }
  return sendableFields(list as HeaderList);
}

/** A core-API body from outside, as the bytes or stream to send (null: none). */
function checkBody(body: unknown, what: string): Uint8Array | ReadableStream<Uint8Array> | null {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string') return body.length === 0 ? null : utf8.encode(body);
  if (body instanceof Uint8Array) return body.length === 0 ? null : body;
  if (body instanceof ReadableStream) return body as ReadableStream<Uint8Array>;
  throw new TypeError(`peer-http: ${what} must be a Uint8Array, a string or a ReadableStream`);
}

/**
 * Received fields minus hop-by-hop ones, as the `headers` of a `Request`/`Response` init
 * (which copies them: no intermediate `Headers` object). The list itself when none is
 * hop-by-hop, the usual case.
 */
function receivedFields(list: HeaderList): HeaderList {
  let i = 0;
  while (i < list.length && !HOP_BY_HOP.has(list[i]![0])) i++;
  if (i === list.length) return list;
  return list.filter(([name]) => !HOP_BY_HOP.has(name));
}

function asTypeError(error: unknown): unknown {
  if (error instanceof PeerHttpError) return networkError(error);
  if (error instanceof TypeError) return error;
  if (
    error instanceof DOMException &&
    (error.name === 'AbortError' || error.name === 'TimeoutError')
  )
    return error;
  return new TypeError(`peer-http: ${error instanceof Error ? error.message : String(error)}`, {
    cause: error,
  });
}

/** Cancels `body` with `reason` if it is a stream (one that will never be sent). */
function cancelStream(body: unknown, reason?: unknown): Promise<void> | undefined {
  return body instanceof ReadableStream ? body.cancel(reason).catch(() => undefined) : undefined;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function isPlainJson(body: unknown): body is Record<string, unknown> | readonly unknown[] {
  if (body === null || typeof body !== 'object') return false;
  const proto = Object.getPrototypeOf(body) as unknown;
  return Array.isArray(body) || proto === Object.prototype || proto === null;
}

/** A response as the server layer sends it: fields ready to encode, bytes or a stream. */
interface Outgoing {
  status: number;
  headers: HeaderList;
  body: Uint8Array | ReadableStream<Uint8Array> | null;
}

function textReply(status: number, text: string): Outgoing {
  return { status, headers: [['content-type', 'text/plain']], body: utf8.encode(text) };
}

/** A core handler's answer, checked: a bad one is the handler's failure (a 500). */
function checkReply(reply: unknown): Outgoing {
  if (typeof reply !== 'object' || reply === null) {
    throw new TypeError('the core handler did not return a reply object');
  }
  const { status, headers, body } = reply as Partial<PeerReply>;
  const checkedBody = checkBody(body, 'the reply body');
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599) {
    void cancelStream(checkedBody);
    throw new TypeError(`the core handler returned status ${String(status)}`);
  }
  return { status, headers: checkHeaderList(headers, 'the reply headers'), body: checkedBody };
}

async function readChunks(body: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return chunks;
    chunks.push(value);
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  let size = 0;
  for (const chunk of chunks) size += chunk.length;
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  return all;
}

/** A received body of the core API; `stream` undefined: none. */
class ReceivedBody implements PeerBodyReader {
  constructor(private readonly stream: Stream | undefined) {}

  get body(): ReadableStream<Uint8Array> | null {
    return this.stream ? this.stream.readable : null;
  }

  async bytes(): Promise<Uint8Array> {
    const stream = this.stream;
    if (!stream) return new Uint8Array(0);
    // without a ReadableStream unless `body` was asked for
    return concat(stream.hasReadable ? await readChunks(stream.readable) : await stream.collect());
  }

  async text(): Promise<string> {
    return utf8Decoder.decode(await this.bytes());
  }
}

class CoreResponse extends ReceivedBody implements PeerResponse {
  constructor(
    readonly status: number,
    readonly headers: HeaderList,
    stream: Stream | undefined,
  ) {
    super(stream);
  }
}

/** An abort signal made when it is first asked for (most handlers never do: it is not free). */
class LazyAbort {
  private controller: AbortController | undefined;
  private abortReason: { reason: unknown } | undefined;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortReason) this.controller.abort(this.abortReason.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.controller) this.controller.abort(reason);
    else this.abortReason ??= { reason };
  }
}

class CoreRequest extends ReceivedBody implements PeerRequest {
  private readonly aborter = new LazyAbort();

  constructor(
    readonly method: string,
    readonly target: string,
    readonly headers: HeaderList,
    stream: Stream | undefined,
  ) {
    super(stream);
  }

  get signal(): AbortSignal {
    return this.aborter.signal;
  }

  abort(reason: unknown): void {
    this.aborter.abort(reason);
  }
}

/**
 * The fetch-style handler's `Request`. Its `signal` is peer-http's own, made when first asked
 * for, instead of a signal the `Request` follows: following one costs undici a `WeakRef`, a
 * listener and a `FinalizationRegistry` entry per request (≈ 15 µs in a warm loop; 45–65 µs
 * of CPU per fetch-API GET in one process, 40–60 µs of its p50 between two processes;
 * docs/performance.md), and most handlers never look.
 * `clone()` follows it, and so does a `Request` made with this one as its init
 * (`new Request(url, request)`). One made from it without an init (`new Request(request)`,
 * `fetch(request)`) follows the platform's own signal, which never aborts: pass
 * `{ signal: request.signal }` there.
 */
class ServerRequest extends Request {
  readonly #aborter = new LazyAbort();

  override get signal(): AbortSignal {
    return this.#aborter.signal;
  }

  override clone(): Request {
    return new Request(super.clone(), { signal: this.signal });
  }

  static abort(request: ServerRequest, reason: unknown): void {
    request.#aborter.abort(reason);
  }
}

/** Upper-cases the methods fetch normalizes (`get` → `GET`); others stay as they are. */
function normalizeMethod(method: string): string {
  const upper = method.toUpperCase();
  return NORMALIZED_METHODS.has(upper) ? upper : method;
}

class Session implements PeerHttpSession {
  private readonly muxer: Muxer;
  /** Request timeouts (one timer for all pending requests). */
  private readonly deadlines = new Deadlines();
  readonly ready: Promise<void>;

  constructor(
    transport: Transport,
    private readonly config: PeerHttpConfig,
    private readonly handler: PeerHttpHandler | undefined,
    private readonly coreHandler: PeerCoreHandler | undefined,
    private readonly onError: PeerHttpOptions['onError'],
  ) {
    this.muxer = new Muxer(transport, config);
    this.ready = this.muxer.ready.then(() => undefined);
    this.ready.catch(() => undefined);
    // streams fail with the connection, so no request is left to time out
    const stop = (): void => this.deadlines.clear();
    this.muxer.closed.then(stop, stop);
    if (handler || coreHandler) {
      this.muxer.onStream = (incoming) => {
        this.serve(incoming).catch((error: unknown) => this.report(error, undefined));
      };
    }
  }

  get closed(): Promise<void> {
    return this.muxer.closed;
  }

  get closeReason(): PeerHttpError | undefined {
    return this.muxer.closeError;
  }

  get rtt(): number | undefined {
    return this.muxer.rtt;
  }

  get peerLimits(): PeerHttpSession['peerLimits'] {
    const peer = this.muxer.peer;
    if (!peer) return undefined;
    const {
      maxFrameSize,
      maxHeaderBytes,
      maxConcurrentStreams,
      initialStreamWindow,
      initialConnectionWindow,
    } = peer;
    return {
      maxFrameSize,
      maxHeaderBytes,
      maxConcurrentStreams,
      initialStreamWindow,
      initialConnectionWindow,
    };
  }

  ping(): Promise<number> {
    return this.muxer.ping().catch((error: unknown) => {
      throw asTypeError(error);
    });
  }

  close(): Promise<void> {
    return this.muxer.close();
  }

  get(url: string | URL, init: PeerFetchInit = {}): Promise<Response> {
    return this.fetch(url, { ...init, method: 'GET' });
  }

  delete(url: string | URL, init: PeerFetchInit = {}): Promise<Response> {
    return this.fetch(url, { ...init, method: 'DELETE' });
  }

  post(url: string | URL, body?: PeerBody, init: PeerFetchInit = {}): Promise<Response> {
    return this.fetch(url, this.withBody('POST', body, init));
  }

  put(url: string | URL, body?: PeerBody, init: PeerFetchInit = {}): Promise<Response> {
    return this.fetch(url, this.withBody('PUT', body, init));
  }

  private withBody(method: string, body: PeerBody | undefined, init: PeerFetchInit): PeerFetchInit {
    if (!isPlainJson(body)) return { ...init, method, body: body ?? null };
    const headers = new Headers(init.headers);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    return { ...init, method, headers, body: JSON.stringify(body) };
  }

  // ----- client -----

  async fetch(input: string | URL | Request, init: PeerFetchInit = {}): Promise<Response> {
    const source = input instanceof Request ? input : undefined;
    const signal = init.signal ?? source?.signal ?? undefined;
    let url: URL;
    let method: string;
    let headers: Headers | undefined;
    let body: ReadableStream<Uint8Array> | null = null;
    try {
      signal?.throwIfAborted();
      try {
        url = new URL(
          typeof input === 'string' ? input : input instanceof URL ? input.href : input.url,
          this.config.baseUrl,
        );
      } catch (error) {
        throw new TypeError('peer-http: invalid URL', { cause: error });
      }
      method = normalizeMethod(init.method ?? source?.method ?? 'GET');
      const headersInit = init.headers ?? source?.headers;
      // a request without header fields (most GETs) needs no Headers object
      headers = headersInit === undefined ? undefined : new Headers(headersInit);
      const bodyInit = init.body !== undefined ? init.body : (source?.body ?? null);
      if (bodyInit !== null) {
        if (method === 'GET' || method === 'HEAD')
          throw new TypeError(`peer-http: a ${method} request cannot have a body`);
        if (bodyInit instanceof ReadableStream) {
          body = bodyInit as ReadableStream<Uint8Array>;
        } else {
          const wrapped = new Response(bodyInit);
          const type = wrapped.headers.get('content-type');
          if (type && !headers?.has('content-type'))
            (headers ??= new Headers()).set('content-type', type);
          body = wrapped.body;
        }
      }
    } catch (error) {
      void cancelStream(init.body, error); // a body stream that will never be sent
      throw error;
    }
    const { stream, response } = await this.exchange(
      {
        type: 'HEADERS',
        streamId: 1,
        kind: 'request',
        method,
        target: url.pathname + url.search,
        headers: headers ? headerList(headers) : [],
      },
      body,
      signal,
      init.timeout,
    );
    const nullBody = NULL_BODY_STATUS.has(response.status);
    if (nullBody) stream.discardBody();
    return new Response(nullBody ? null : stream.readable, {
      status: response.status,
      headers: receivedFields(response.headers),
    });
  }

  async request(init: PeerRequestInit): Promise<PeerResponse> {
    if (typeof init !== 'object' || init === null) {
      throw new TypeError('peer-http: request() takes { method, target, headers, body }');
    }
    const { signal } = init;
    let method: string;
    let headers: HeaderList;
    let body: Uint8Array | ReadableStream<Uint8Array> | null;
    try {
      signal?.throwIfAborted();
      if (init.method !== undefined && typeof init.method !== 'string') {
        throw new TypeError('peer-http: method must be a string');
      }
      if (typeof init.target !== 'string') {
        throw new TypeError('peer-http: target must be a string');
      }
      method = normalizeMethod(init.method ?? 'GET');
      headers = checkHeaderList(init.headers, 'headers');
      body = checkBody(init.body, 'the request body');
      if (body !== null && (method === 'GET' || method === 'HEAD')) {
        throw new TypeError(`peer-http: a ${method} request cannot have a body`);
      }
    } catch (error) {
      void cancelStream(init.body, error); // a body stream that will never be sent
      throw error;
    }
    const { stream, response } = await this.exchange(
      { type: 'HEADERS', streamId: 1, kind: 'request', method, target: init.target, headers },
      body,
      signal,
      init.timeout,
    );
    const noBody = method === 'HEAD' || NULL_BODY_STATUS.has(response.status);
    if (noBody) stream.discardBody();
    return new CoreResponse(
      response.status,
      receivedFields(response.headers),
      noBody ? undefined : stream,
    );
  }

  /**
   * Both clients' common path: opens a stream, sends HEADERS (+ END without a body) and the
   * body, and waits for the response HEADERS. Rejects as fetch does.
   */
  private async exchange(
    frame: RequestHeadersFrame,
    body: Uint8Array | ReadableStream<Uint8Array> | null,
    signal: AbortSignal | undefined,
    timeoutOption: number | undefined,
  ): Promise<{ stream: Stream; response: ResponseHeadersFrame }> {
    // A body stream that will never be sent is cancelled, as fetch cancels a request body
    // on failure: its source learns why.
    const failBefore = (error: unknown): unknown => {
      void cancelStream(body, error);
      return error;
    };
    if (!this.muxer.peer) {
      try {
        await this.abortable(this.muxer.ready, signal);
      } catch (error) {
        throw failBefore(asTypeError(error));
      }
    }
    let block: Uint8Array;
    try {
      block = encodeHeaderBlock(frame);
    } catch (error) {
      throw failBefore(asTypeError(error));
    }
    const peerMax = this.muxer.peer!.maxFrameSize;
    if (block.length > peerMax) {
      throw failBefore(
        networkError(
          new PeerHttpError(
            ReasonCode.HEADER_TOO_LARGE,
            `request headers of ${block.length} bytes exceed the peer's maximum frame size ${peerMax}`,
            { scope: 'stream' },
          ),
        ),
      );
    }

    // at once when a slot is free (no wait, no promise), else when one is
    let stream = this.muxer.tryOpenStream();
    if (!stream) {
      const opening = this.muxer.openWhenFree();
      try {
        stream = await this.abortable(opening, signal);
      } catch (error) {
        opening
          .then((late) => late.fail(new PeerHttpError(ReasonCode.CANCEL, 'aborted'), false))
          .catch(() => undefined);
        throw failBefore(asTypeError(error));
      }
    }
    if (signal?.aborted) {
      stream.fail(new PeerHttpError(ReasonCode.CANCEL, 'aborted'), false);
      throw failBefore(signal.reason);
    }

    frame.streamId = stream.id;
    // HEADERS + END for a bodiless request; a small byte body goes with them when it can
    const complete = this.muxer.startMessage(stream, frame, block, body);
    const onAbort = (): void =>
      stream.fail(
        new PeerHttpError(ReasonCode.CANCEL, 'aborted', { scope: 'stream' }),
        true,
        signal!.reason,
      );
    if (signal) {
      signal.addEventListener('abort', onAbort, { once: true });
      // a long-lived signal must not keep finished streams alive
      stream.onClosed = () => signal.removeEventListener('abort', onAbort);
    }
    if (complete) {
      // all queued with the HEADERS
    } else if (body instanceof Uint8Array) {
      stream.writeAll(body).catch(() => undefined); // a failed stream
    } else if (body) {
      void this.pumpBody(
        stream,
        body,
        (error) =>
          new PeerHttpError(ReasonCode.CANCEL, 'the request body failed', {
            scope: 'stream',
            cause: error,
          }),
      );
    }

    const timeout = timeoutOption ?? this.config.requestTimeout;
    if (timeout > 0) {
      this.deadlines.add(stream, timeout, () =>
        stream.fail(
          new PeerHttpError(ReasonCode.TIMEOUT, `no response within ${timeout} ms`, {
            scope: 'stream',
          }),
          true,
        ),
      );
    }
    try {
      return { stream, response: (await stream.headers()) as ResponseHeadersFrame };
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw asTypeError(error);
    } finally {
      this.deadlines.delete(stream);
    }
  }

  private abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    if (!signal) return promise;
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason as Error);
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  // ----- server -----

  private async serve(incoming: IncomingStream): Promise<void> {
    const { stream } = incoming;
    if (incoming.rejected) {
      stream.discardBody();
      await this.respond(stream, textReply(431, 'Request Header Fields Too Large\n'), false);
      return;
    }
    const { request: frame } = incoming;
    const hasBody = frame.method !== 'GET' && frame.method !== 'HEAD';
    if (!hasBody) stream.discardBody();
    const headOnly = frame.method === 'HEAD';
    if (this.coreHandler) {
      const request = new CoreRequest(
        frame.method,
        frame.target,
        receivedFields(frame.headers),
        hasBody ? stream : undefined,
      );
      stream.onFail = (error) => request.abort(networkError(error));
      let reply: Outgoing;
      try {
        const result = this.coreHandler(request);
        // a synchronous reply is not awaited: it goes out from the message callback
        reply = checkReply(isThenable(result) ? await result : result);
      } catch (error) {
        this.report(error, request);
        reply = textReply(500, 'Internal Server Error\n');
      }
      await this.respond(stream, reply, headOnly);
      return;
    }
    let request: ServerRequest;
    try {
      request = new ServerRequest(this.config.baseUrl + frame.target, {
        method: frame.method,
        headers: receivedFields(frame.headers),
        ...(hasBody ? { body: stream.readable, duplex: 'half' } : {}),
      });
    } catch {
      stream.discardBody();
      await this.respond(stream, textReply(400, 'Bad Request\n'), false);
      return;
    }
    // the stream holds the request (and so its signal) while it is open
    stream.onFail = (error) => ServerRequest.abort(request, networkError(error));
    let reply: Outgoing;
    try {
      const result: unknown = await this.handler!(request);
      if (!(result instanceof Response))
        throw new TypeError('the handler did not return a Response');
      if (result.type === 'error' || result.status < 200 || result.status > 599) {
        throw new TypeError(`the handler returned a network error or status ${result.status}`);
      }
      reply = { status: result.status, headers: headerList(result.headers), body: result.body };
    } catch (error) {
      this.report(error, request);
      reply = textReply(500, 'Internal Server Error\n');
    }
    await this.respond(stream, reply, headOnly);
  }

  /** Sends a response: HEADERS, the body as DATA, END; then stops an unread request body. */
  private async respond(stream: Stream, reply: Outgoing, headOnly: boolean): Promise<void> {
    if (stream.error) {
      await cancelStream(reply.body);
      return;
    }
    let frame: ResponseHeadersFrame = {
      type: 'HEADERS',
      streamId: stream.id,
      kind: 'response',
      status: reply.status,
      headers: reply.headers,
    };
    let block: Uint8Array;
    let source = reply.body;
    try {
      block = encodeHeaderBlock(frame);
    } catch (error) {
      this.report(error, undefined);
      await cancelStream(source);
      frame = { type: 'HEADERS', streamId: stream.id, kind: 'response', status: 500, headers: [] };
      block = encodeHeaderBlock(frame);
      source = null;
    }
    if (headOnly) {
      await cancelStream(source);
      source = null;
    }
    if (stream.error) return;
    if (this.muxer.startMessage(stream, frame, block, source)) {
      // no body, or a small one queued whole with the HEADERS and END: nothing to wait for
    } else if (source instanceof Uint8Array) {
      try {
        await stream.writeAll(source); // a small one shares a message with its HEADERS
      } catch {
        return;
      }
    } else if (source) {
      const sent = await this.pumpBody(stream, source, (error) => {
        this.report(error, undefined);
        return new PeerHttpError(ReasonCode.INTERNAL_ERROR, 'the response body failed', {
          scope: 'stream',
        });
      });
      if (!sent) return;
    }
    // the frames after the request HEADERS in the same message (its END) are read first
    if (!stream.hasRemoteEnded) await Promise.resolve();
    if (!stream.hasRemoteEnded && !stream.error) {
      // PROTOCOL.md §6.2: the response is complete; stop the rest of the request body
      stream.fail(
        new PeerHttpError(ReasonCode.NO_ERROR, 'response complete', { scope: 'stream' }),
        true,
      );
    }
  }

  /**
   * Streams a body (a request's or a response's) into `stream`, then END; false if the
   * stream or the source failed on the way. A stream that stops sending (reset, failed)
   * cancels the source at once, even one stalled in a read, with the reason; a source that
   * fails resets the stream with `readFailure(error)`.
   */
  private async pumpBody(
    stream: Stream,
    body: ReadableStream<Uint8Array>,
    readFailure: (error: unknown) => PeerHttpError,
  ): Promise<boolean> {
    const reader = body.getReader();
    const stopWatching = stream.whenSendStopped((error) => {
      reader.cancel(error).catch(() => undefined);
    });
    try {
      for (;;) {
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await reader.read();
        } catch (error) {
          stream.fail(readFailure(error), true);
          return false;
        }
        if (result.done) break;
        try {
          await stream.write(result.value);
        } catch (error) {
          await reader.cancel(error).catch(() => undefined);
          return false;
        }
      }
    } finally {
      stopWatching();
    }
    try {
      await stream.end();
    } catch {
      return false;
    }
    return true;
  }

  private report(error: unknown, request: Request | PeerRequest | undefined): void {
    try {
      this.onError?.(error, request);
    } catch {
      // a failing error hook must not take the session down
    }
  }
}

/**
 * A peer-http session over `transport`: a client and, with `options.handler` (fetch API) or
 * `options.coreHandler` (core API), a server.
 */
export function createPeerHttp(
  transport: Transport,
  options: PeerHttpOptions = {},
): PeerHttpSession {
  const { handler, coreHandler, onError, ...limits } = options;
  for (const [name, value] of [
    ['handler', handler],
    ['coreHandler', coreHandler],
    ['onError', onError],
  ] as const) {
    if (value !== undefined && typeof value !== 'function') {
      throw new TypeError(`peer-http: ${name} must be a function`);
    }
  }
  if (handler && coreHandler) {
    throw new TypeError('peer-http: give either handler or coreHandler, not both');
  }
  return new Session(transport, verifyConfig(limits), handler, coreHandler, onError);
}

/** A client-only session (requests from the peer are refused). */
export function createPeerFetch(
  transport: Transport,
  options: Omit<PeerHttpOptions, 'handler' | 'coreHandler'> = {},
): PeerHttpSession {
  return createPeerHttp(transport, { ...options, handler: undefined, coreHandler: undefined });
}

/** A session that serves `handler` (and can fetch from the peer too). */
export function servePeerHttp(
  transport: Transport,
  handler: PeerHttpHandler,
  options: Omit<PeerHttpOptions, 'handler' | 'coreHandler'> = {},
): PeerHttpSession {
  return createPeerHttp(transport, { ...options, handler, coreHandler: undefined });
}
