// The fetch API's floor: what the WHATWG objects of one small GET cost this runtime by
// themselves, whoever builds them. Every fetch-over-anything implementation makes them: the
// handler's `Request`, the handler's `Response` (and reading its body to send it), and the
// client's `Response` over a streaming body (and the caller reading it). Nothing of
// peer-http runs here. Measured warm, in a tight loop in this process: a lower bound of what
// they cost an agent and a client that have just woken up (docs/performance.md, "The fetch
// API's floor").

/** µs per small GET, warm, for each object the fetch API needs and cannot do without. */
export interface FetchFloor {
  /** `new Request(url, { method, headers })` as the agent hands it to its handler. */
  handlerRequest: number;
  /** The handler's `new Response(bytes)` and reading its body (what the agent sends). */
  handlerResponse: number;
  /** The client's `new Response(stream, { status, headers })` and `arrayBuffer()` on it. */
  clientResponse: number;
  total: number;
}

const SMALL = new TextEncoder().encode('pong');
const FIELDS: [string, string][] = [['content-type', 'text/plain;charset=UTF-8']];

/** Mean µs of one `step` over `n` calls, after `n / 5` warm-up calls. */
async function perCall(step: () => unknown, n: number): Promise<number> {
  for (let i = 0; i < n / 5; i++) await step();
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await step();
  return Number(process.hrtime.bigint() - started) / n / 1000;
}

async function readAll(body: ReadableStream<Uint8Array>): Promise<void> {
  const reader = body.getReader();
  while (!(await reader.read()).done);
}

/** Each object's cost, the best of `rounds` rounds of `n` calls (µs, 2 decimals). */
export async function measureFetchFloor(n = 20_000, rounds = 3): Promise<FetchFloor> {
  const steps = {
    handlerRequest: () => new Request('http://peer/small', { method: 'GET', headers: [] }),
    handlerResponse: () => readAll(new Response(SMALL).body!),
    clientResponse: () =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(SMALL);
            controller.close();
          },
        }),
        { status: 200, headers: FIELDS },
      ).arrayBuffer(),
  };
  const best = { handlerRequest: Infinity, handlerResponse: Infinity, clientResponse: Infinity };
  for (let round = 0; round < rounds; round++) {
    for (const name of Object.keys(steps) as (keyof typeof steps)[]) {
      best[name] = Math.min(best[name], await perCall(steps[name], n));
    }
  }
  const two = (x: number) => Math.round(x * 100) / 100;
  return {
    handlerRequest: two(best.handlerRequest),
    handlerResponse: two(best.handlerResponse),
    clientResponse: two(best.clientResponse),
    total: two(best.handlerRequest + best.handlerResponse + best.clientResponse),
  };
}
