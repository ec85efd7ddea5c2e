/**
 * The fetch layer: a session is both a WHATWG `fetch` client and a fetch-style server over
 * one {@link Transport} (PROTOCOL.md §10).
 */
import { verifyConfig, type PeerHttpConfig } from './config.js';
import { encodeHeaderBlock } from './encode.js';
import { PeerHttpError, ReasonCode } from './errors.js';
import type { HeaderList, RequestHeadersFrame, ResponseHeadersFrame } from './frame.js';
import { Muxer, type IncomingStream } from './muxer.js';
import { networkError, type Stream } from './stream.js';
import type { Transport } from './transport.js';

/** A fetch-style request handler. */
export type PeerHttpHandler = (request: Request) => Response | Promise<Response>;

export interface PeerHttpOptions extends Partial<PeerHttpConfig> {
  /** Serves the requests the peer sends (without one, they are refused). */
  handler?: PeerHttpHandler | undefined;
  /** Told about handler failures (a thrown error becomes a bare 500 for the peer). */
  onError?: ((error: unknown, request: Request | undefined) => void) | undefined;
}

/** `RequestInit` plus a per-request timeout (ms until the response headers; 0: none). */
export interface PeerFetchInit extends RequestInit {
  timeout?: number;
}

/** A body for the convenience methods: any fetch body, or a plain object/array sent as JSON. */
export type PeerBody = BodyInit | null | Record<string, unknown> | readonly unknown[];

export interface PeerHttpSession {
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
const NORMALIZED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH']);

/** Header fields to send: minus hop-by-hop ones and those the `connection` field names. */
function headerList(headers: Headers): HeaderList {
  const list: HeaderList = [];
  const connection = headers.get('connection');
  const listed =
    connection === null
      ? undefined
      : new Set(
          connection
            .split(',')
            .map((s) => s.trim().toLowerCase())
            .filter(Boolean),
        );
  let cookies = false;
  headers.forEach((value, name) => {
    if (name === 'set-cookie') {
      cookies = true; // handled below, one field per cookie
      return;
    }
    if (!HOP_BY_HOP.has(name) && !listed?.has(name)) list.push([name, value]);
  });
  if (cookies) for (const cookie of headers.getSetCookie()) list.push(['set-cookie', cookie]);
  return list;
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

function isPlainJson(body: unknown): body is Record<string, unknown> | readonly unknown[] {
  if (body === null || typeof body !== 'object') return false;
  const proto = Object.getPrototypeOf(body) as unknown;
  return Array.isArray(body) || proto === Object.prototype || proto === null;
}

class Session implements PeerHttpSession {
  private readonly muxer: Muxer;
  readonly ready: Promise<void>;

  constructor(
    transport: Transport,
    private readonly config: PeerHttpConfig,
    private readonly handler: PeerHttpHandler | undefined,
    private readonly onError: PeerHttpOptions['onError'],
  ) {
    this.muxer = new Muxer(transport, config);
    this.ready = this.muxer.ready.then(() => undefined);
    this.ready.catch(() => undefined);
    if (handler) {
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
    signal?.throwIfAborted();

    let url: URL;
    try {
      url = new URL(
        typeof input === 'string' ? input : input instanceof URL ? input.href : input.url,
        this.config.baseUrl,
      );
    } catch (error) {
      throw new TypeError('peer-http: invalid URL', {
        cause: error,
      });
    }
    let method = init.method ?? source?.method ?? 'GET';
    if (NORMALIZED_METHODS.has(method.toUpperCase())) method = method.toUpperCase();
    const headersInit = init.headers ?? source?.headers;
    // a request without header fields (most GETs) needs no Headers object
    let headers = headersInit === undefined ? undefined : new Headers(headersInit);
    let body: ReadableStream<Uint8Array> | null = null;
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
    const frame: RequestHeadersFrame = {
      type: 'HEADERS',
      streamId: 1,
      kind: 'request',
      method,
      target: url.pathname + url.search,
      headers: headers ? headerList(headers) : [],
    };

    try {
      await this.abortable(this.muxer.ready, signal);
    } catch (error) {
      throw asTypeError(error);
    }
    let block: Uint8Array;
    try {
      block = encodeHeaderBlock(frame);
    } catch (error) {
      throw asTypeError(error);
    }
    const peerMax = this.muxer.peer!.maxFrameSize;
    if (block.length > peerMax) {
      throw networkError(
        new PeerHttpError(
          ReasonCode.HEADER_TOO_LARGE,
          `request headers of ${block.length} bytes exceed the peer's maximum frame size ${peerMax}`,
          { scope: 'stream' },
        ),
      );
    }

    const opening = this.muxer.openStream();
    let stream: Stream;
    try {
      stream = await this.abortable(opening, signal);
    } catch (error) {
      opening
        .then((late) => late.fail(new PeerHttpError(ReasonCode.CANCEL, 'aborted'), false))
        .catch(() => undefined);
      throw asTypeError(error);
    }
    if (signal?.aborted) {
      stream.fail(new PeerHttpError(ReasonCode.CANCEL, 'aborted'), false);
      throw signal.reason;
    }

    frame.streamId = stream.id;
    this.muxer.sendHeaders(frame, block, !body); // a bodiless request: HEADERS + END
    if (!body) stream.endSent();
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
    if (body) this.upload(stream, body);

    const timeout = init.timeout ?? this.config.requestTimeout;
    const timer =
      timeout > 0
        ? setTimeout(
            () =>
              stream.fail(
                new PeerHttpError(ReasonCode.TIMEOUT, `no response within ${timeout} ms`, {
                  scope: 'stream',
                }),
                true,
              ),
            timeout,
          )
        : undefined;
    let response: ResponseHeadersFrame;
    try {
      response = (await stream.headers()) as ResponseHeadersFrame;
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw asTypeError(error);
    } finally {
      clearTimeout(timer);
    }
    const nullBody = NULL_BODY_STATUS.has(response.status);
    if (nullBody) stream.discardBody();
    return new Response(nullBody ? null : stream.readable, {
      status: response.status,
      headers: receivedFields(response.headers),
    });
  }

  private upload(stream: Stream, body: ReadableStream<Uint8Array>): void {
    const reader = body.getReader();
    const stopWatching = stream.whenSendStopped((error) => {
      reader.cancel(error).catch(() => undefined);
    });
    const pump = async (): Promise<void> => {
      for (;;) {
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await reader.read();
        } catch (error) {
          stream.fail(
            new PeerHttpError(ReasonCode.CANCEL, 'the request body failed', {
              scope: 'stream',
              cause: error,
            }),
            true,
          );
          return;
        }
        if (result.done) break;
        try {
          await stream.write(result.value);
        } catch (error) {
          await reader.cancel(error).catch(() => undefined);
          return;
        }
      }
      await stream.end().catch(() => undefined);
    };
    void pump().finally(stopWatching);
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
      await this.respond(
        stream,
        new Response('Request Header Fields Too Large\n', {
          status: 431,
          headers: { 'content-type': 'text/plain' },
        }),
        false,
      );
      return;
    }
    const { request: frame } = incoming;
    const controller = new AbortController();
    stream.onFail = (error) => controller.abort(networkError(error));
    const hasBody = frame.method !== 'GET' && frame.method !== 'HEAD';
    if (!hasBody) stream.discardBody();
    let request: Request;
    try {
      request = new Request(this.config.baseUrl + frame.target, {
        method: frame.method,
        headers: receivedFields(frame.headers),
        signal: controller.signal,
        ...(hasBody ? { body: stream.readable, duplex: 'half' } : {}),
      });
    } catch {
      stream.discardBody();
      await this.respond(
        stream,
        new Response('Bad Request\n', { status: 400, headers: { 'content-type': 'text/plain' } }),
        false,
      );
      return;
    }
    stream.attachment = request; // see Stream.attachment
    let response: Response;
    try {
      const result: unknown = await this.handler!(request);
      if (!(result instanceof Response))
        throw new TypeError('the handler did not return a Response');
      response = result;
      if (response.type === 'error' || response.status < 200 || response.status > 599) {
        throw new TypeError(`the handler returned a network error or status ${response.status}`);
      }
    } catch (error) {
      this.report(error, request);
      response = new Response('Internal Server Error\n', {
        status: 500,
        headers: { 'content-type': 'text/plain' },
      });
    }
    await this.respond(stream, response, frame.method === 'HEAD');
  }

  /** Sends a response: HEADERS, the body as DATA, END; then stops an unread request body. */
  private async respond(stream: Stream, response: Response, headOnly: boolean): Promise<void> {
    if (stream.error) {
      await response.body?.cancel().catch(() => undefined);
      return;
    }
    let frame: ResponseHeadersFrame = {
      type: 'HEADERS',
      streamId: stream.id,
      kind: 'response',
      status: response.status,
      headers: headerList(response.headers),
    };
    let block: Uint8Array;
    try {
      block = encodeHeaderBlock(frame);
    } catch (error) {
      this.report(error, undefined);
      await response.body?.cancel().catch(() => undefined);
      frame = { type: 'HEADERS', streamId: stream.id, kind: 'response', status: 500, headers: [] };
      block = encodeHeaderBlock(frame);
      response = new Response(null, { status: 500 });
    }
    const body = headOnly ? null : response.body;
    if (headOnly) await response.body?.cancel().catch(() => undefined);
    if (stream.error) return;
    this.muxer.sendHeaders(frame, block, !body); // no body: HEADERS + END
    if (!body) {
      stream.endSent();
    } else {
      const reader = body.getReader();
      // A reset stream stops the source at once, even one stalled in a read.
      const stopWatching = stream.whenSendStopped(() => {
        reader.cancel().catch(() => undefined);
      });
      try {
        for (;;) {
          let result: ReadableStreamReadResult<Uint8Array>;
          try {
            result = await reader.read();
          } catch (error) {
            this.report(error, undefined);
            stream.fail(
              new PeerHttpError(ReasonCode.INTERNAL_ERROR, 'the response body failed', {
                scope: 'stream',
              }),
              true,
            );
            return;
          }
          if (result.done) break;
          try {
            await stream.write(result.value);
          } catch {
            await reader.cancel().catch(() => undefined);
            return;
          }
        }
      } finally {
        stopWatching();
      }
    }
    try {
      await stream.end();
    } catch {
      return;
    }
    if (!stream.hasRemoteEnded && !stream.error) {
      // PROTOCOL.md §6.2: the response is complete; stop the rest of the request body
      stream.fail(
        new PeerHttpError(ReasonCode.NO_ERROR, 'response complete', { scope: 'stream' }),
        true,
      );
    }
  }

  private report(error: unknown, request: Request | undefined): void {
    try {
      this.onError?.(error, request);
    } catch {
      // a failing error hook must not take the session down
    }
  }
}

/** A peer-http session over `transport`: a fetch client and, with `options.handler`, a server. */
export function createPeerHttp(
  transport: Transport,
  options: PeerHttpOptions = {},
): PeerHttpSession {
  const { handler, onError, ...limits } = options;
  return new Session(transport, verifyConfig(limits), handler, onError);
}

/** A client-only session (requests from the peer are refused). */
export function createPeerFetch(
  transport: Transport,
  options: Omit<PeerHttpOptions, 'handler'> = {},
): PeerHttpSession {
  return createPeerHttp(transport, { ...options, handler: undefined });
}

/** A session that serves `handler` (and can fetch from the peer too). */
export function servePeerHttp(
  transport: Transport,
  handler: PeerHttpHandler,
  options: Omit<PeerHttpOptions, 'handler'> = {},
): PeerHttpSession {
  return createPeerHttp(transport, { ...options, handler });
}
