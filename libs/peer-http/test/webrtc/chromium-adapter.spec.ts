// rtcDataChannelTransport in a real Chromium page, talking to nodeDataChannelTransport.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Transport } from '../../src/transport.js';
import { ChromiumHarness, type BrowserConnection } from './chromium.js';
import { cleanupNodeDataChannel } from './node-pair.js';

let harness: ChromiumHarness;
let conn: BrowserConnection | undefined;

beforeAll(async () => {
  harness = await ChromiumHarness.launch();
});
afterEach(async () => {
  await harness.page.evaluate(() => window.pf.hangUp());
  await conn?.close();
  conn = undefined;
});
afterAll(async () => {
  await harness?.close();
  cleanupNodeDataChannel();
});

function collect(t: Transport, count: number): Promise<Uint8Array[]> {
  return new Promise((resolve) => {
    const got: Uint8Array[] = [];
    t.onMessage((m) => {
      got.push(m.slice());
      if (got.length === count) resolve(got);
    });
  });
}

/** Byte-wise equality (vitest's deep equality is far too slow for 256 KiB arrays). */
function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && Buffer.compare(a, b) === 0;
}

function pattern(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

describe('rtcDataChannelTransport in Chromium ↔ nodeDataChannelTransport', () => {
  it('opens with the browser offering and both sides reporting max message size 262144', async () => {
    conn = await harness.connect();
    expect(conn.node.isOpen).toBe(true);
    expect(conn.node.maxMessageSize).toBe(262144);
    const browserSide = await harness.page.evaluate(() => {
      const t = window.pf.transport();
      return { isOpen: t.isOpen, max: t.maxMessageSize };
    });
    expect(browserSide).toEqual({ isOpen: true, max: 262144 });
  });

  it('round-trips whole messages through the browser without changing boundaries or bytes', async () => {
    conn = await harness.connect();
    await harness.page.evaluate(() => window.pf.echo());
    const sizes = [1, 100, 1200, 16384, 65536, 100_000, 262144, 7];
    const echoed = collect(conn.node, sizes.length);
    sizes.forEach((size, i) => conn?.node.send(pattern(size, i)));
    const got = await echoed;
    expect(got.map((m) => m.byteLength)).toEqual(sizes);
    sizes.forEach((size, i) => expect(sameBytes(got[i], pattern(size, i))).toBe(true));
  });

  it('reports bufferedAmount in the browser and fires bufferedamountlow when it drains', async () => {
    conn = await harness.connect();
    const total = 48;
    const received = collect(conn.node, total);
    const result = await harness.page.evaluate(async (n) => {
      const t = window.pf.transport();
      t.bufferedAmountLowThreshold = 256 * 1024;
      const low = new Promise<number>((resolve) =>
        t.onBufferedAmountLow(() => resolve(t.bufferedAmount)),
      );
      const chunk = new Uint8Array(256 * 1024);
      for (let i = 0; i < n; i++) t.send(chunk);
      const peak = t.bufferedAmount;
      return { peak, atLow: await low };
    }, total);
    expect(result.peak).toBeGreaterThan(256 * 1024);
    expect(result.atLow).toBeLessThanOrEqual(256 * 1024);
    expect((await received).length).toBe(total);
  });

  it('propagates a close from the browser to Node, and from Node to the browser', async () => {
    conn = await harness.connect();
    const nodeClosed = new Promise<Error | undefined>((resolve) => conn?.node.onClose(resolve));
    await harness.page.evaluate(() => window.pf.transport().close());
    await nodeClosed;
    expect(conn.node.isOpen).toBe(false);
    await conn.close();

    conn = await harness.connect();
    const browserClosed = harness.page.evaluate(
      () =>
        new Promise<boolean>((resolve) => {
          const t = window.pf.transport();
          t.onClose(() => resolve(t.isOpen));
        }),
    );
    conn.node.close();
    expect(await browserClosed).toBe(false);
  });

  it('closes the Node transport when the browser hangs up its PeerConnection', async () => {
    conn = await harness.connect();
    const nodeClosed = new Promise<Error | undefined>((resolve) => conn?.node.onClose(resolve));
    await harness.page.evaluate(() => window.pf.hangUp());
    await nodeClosed;
    expect(conn.node.isOpen).toBe(false);
  });
});
