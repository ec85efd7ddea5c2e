// Request handler and body helpers shared by the Node side and the Chromium page (bundled
// into it), so both directions run the same server and the same checks. Browser-safe.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

export const BLOCK = 64 * 1024;

/** The deterministic body for (n, seed): 64 KiB blocks, each tagged with its index. */
function block(seed: number): Uint8Array {
  const out = new Uint8Array(BLOCK);
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < BLOCK; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
    out[i + 1] = (x >>> 8) & 0xff;
    out[i + 2] = (x >>> 16) & 0xff;
    out[i + 3] = (x >>> 24) & 0xff;
  }
  return out;
}

function chunkAt(base: Uint8Array, index: number, size: number): Uint8Array {
  const chunk = base.slice(0, size);
  if (size >= 4) new DataView(chunk.buffer).setUint32(0, index);
  return chunk;
}

/** A ReadableStream of the (n, seed) body, produced as it is read. */
export function patternStream(
  n: number,
  seed: number,
  hooks: { onCancel?: () => void; stallAfter?: number } = {},
): ReadableStream<Uint8Array> {
  const base = block(seed);
  let sent = 0;
  let index = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (hooks.stallAfter !== undefined && sent >= hooks.stallAfter) {
          // From here on, nothing: only a cancel (the peer's RESET) ends this body.
          await new Promise<never>(() => undefined);
        }
        if (sent >= n) {
          controller.close();
          return;
        }
        const size = Math.min(BLOCK, n - sent);
        controller.enqueue(chunkAt(base, index++, size));
        sent += size;
      },
      cancel() {
        hooks.onCancel?.();
      },
    },
    { highWaterMark: 0 },
  );
}

/** SHA-256 (hex) of the (n, seed) body, computed locally. */
export function patternDigest(n: number, seed: number): string {
  const base = block(seed);
  const hash = sha256.create();
  for (let sent = 0, index = 0; sent < n; index++) {
    const size = Math.min(BLOCK, n - sent);
    hash.update(chunkAt(base, index, size));
    sent += size;
  }
  return bytesToHex(hash.digest());
}

export interface BodyDigest {
  bytes: number;
  sha256: string;
}

/** Reads a body to its end, hashing as it goes. */
export async function digestStream(body: ReadableStream<Uint8Array> | null): Promise<BodyDigest> {
  const hash = sha256.create();
  let bytes = 0;
  if (body !== null) {
    const reader = body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      hash.update(value);
      bytes += value.byteLength;
    }
  }
  return { bytes, sha256: bytesToHex(hash.digest()) };
}

/** What the test server observed (read by the test through the page or directly). */
export interface ServerEvents {
  cancelled: number;
  requests: number;
}

/**
 * The test server:
 * - `GET /bytes?n=&seed=`: the pattern body;
 * - `GET /stall?n=&seed=`: n bytes of the pattern, then a stall (a read that never
 *   completes) until the reader cancels;
 * - `POST /digest`: `{ bytes, sha256 }` of the request body;
 * - `GET /status/{code}`: that status, body "status {code}";
 * - `GET /throw`: the handler throws (the peer sees a 500);
 * - `GET /echo-header`: the byte length of the request's `x-big` header.
 */
export function testHandler(events: ServerEvents): (request: Request) => Promise<Response> {
  return async (request) => {
    events.requests += 1;
    const url = new URL(request.url);
    const n = Number(url.searchParams.get('n') ?? '0');
    const seed = Number(url.searchParams.get('seed') ?? '1');
    if (url.pathname === '/bytes') {
      return new Response(patternStream(n, seed), {
        headers: { 'content-type': 'application/octet-stream' },
      });
    }
    if (url.pathname === '/stall') {
      return new Response(
        patternStream(Number.MAX_SAFE_INTEGER, seed, {
          stallAfter: n,
          onCancel: () => {
            events.cancelled += 1;
          },
        }),
      );
    }
    if (url.pathname === '/digest' && request.method === 'POST') {
      return Response.json(await digestStream(request.body));
    }
    const status = /^\/status\/(\d{3})$/.exec(url.pathname);
    if (status) return new Response(`status ${status[1]}`, { status: Number(status[1]) });
    if (url.pathname === '/throw') throw new Error('handler failure (expected by the test)');
    if (url.pathname === '/echo-header') {
      return new Response(String(request.headers.get('x-big')?.length ?? 0));
    }
    return new Response('not found', { status: 404 });
  };
}
