// Chromium harness: a real browser page (Debian's /usr/bin/chromium through playwright-core)
// that loads the peer-http library bundled from its browser entry, and connects to a
// node-datachannel peer in this process. The browser offers, Node answers: the product's
// direction (console offers, agent answers). Run inside the loopback-only namespace.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import nodeDataChannel, { type DataChannel, type PeerConnection } from 'node-datachannel';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Transport } from '../../src/transport.js';
import { nodeDataChannelTransport } from '../../src/node/node-datachannel.js';
import type { SignalMessage } from './browser/page.js';
import { loopbackRtcConfig } from './node-pair.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-gpu',
  '--disable-quic',
];

/** Bundles test/webrtc/browser/page.ts (and through it src/index.ts) for the browser. */
export async function bundlePage(): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./browser/page.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    conditions: ['@peerfetch/source'],
    logLevel: 'silent',
  });
  const file = result.outputFiles[0];
  if (file === undefined) throw new Error('esbuild produced no output');
  return file.text;
}

export interface BrowserConnection {
  /** The Node (answering) side's transport. */
  node: Transport;
  nodeChannel: DataChannel;
  nodePeer: PeerConnection;
  /** ms from the page's createDataChannel/offer to both sides open. */
  setupMs: number;
  /** Closes the Node side's PeerConnection (the page keeps its own until hangUp). */
  close(): Promise<void>;
}

export class ChromiumHarness {
  private constructor(
    readonly browser: Browser,
    readonly page: Page,
    private readonly server: Server,
    private readonly onSignal: { current: ((m: SignalMessage) => void) | undefined },
  ) {}

  static async launch(): Promise<ChromiumHarness> {
    const script = await bundlePage();
    const server = createServer((req, res) => {
      if (req.url === '/page.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
      } else if (req.url === '/') {
        res
          // cross-origin isolated: performance.now() at 5 µs resolution, not 100 µs (the
          // bench times sub-millisecond round trips in the page)
          .writeHead(200, {
            'content-type': 'text/html',
            'cross-origin-opener-policy': 'same-origin',
            'cross-origin-embedder-policy': 'require-corp',
          })
          .end(
            '<!doctype html><title>peer-http</title><script type="module" src="/page.js"></script>',
          );
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      const onSignal: { current: ((m: SignalMessage) => void) | undefined } = {
        current: undefined,
      };
      await page.exposeFunction('pfSignalToNode', (message: SignalMessage) => {
        onSignal.current?.(message);
      });
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction(() => typeof window.pf === 'object');
      return new ChromiumHarness(browser, page, server, onSignal);
    } catch (error) {
      await browser.close();
      server.close();
      throw error;
    }
  }

  /**
   * Has the page offer a DataChannel to any answerer. `toAnswerer` receives the page's offer
   * and candidates; the answerer's answer and candidates go back through `fromAnswerer`.
   * Resolves with the page's setup time (its createDataChannel → open, ms).
   */
  offer(
    toAnswerer: (message: SignalMessage) => void,
    label = 'peer-http',
  ): { fromAnswerer(message: SignalMessage): Promise<void>; open: Promise<number> } {
    this.onSignal.current = toAnswerer;
    const open = this.page
      .evaluate((l) => window.pf.connect(l), label)
      .finally(() => {
        this.onSignal.current = undefined;
      });
    return {
      fromAnswerer: (message) => this.page.evaluate((m) => window.pf.remote(m), message),
      open,
    };
  }

  /** Connects the page (offerer) to a new node-datachannel PeerConnection (answerer) here. */
  async connect(label = 'peer-http', timeoutMs = 15_000): Promise<BrowserConnection> {
    const pc = new nodeDataChannel.PeerConnection('node', loopbackRtcConfig());
    let failed: ((error: Error) => void) | undefined;
    const fail = (error: unknown): void => {
      failed?.(error instanceof Error ? error : new Error(String(error)));
    };
    const answerer = new Answerer(
      pc,
      (message) => {
        signaling.fromAnswerer(message).catch(fail);
      },
      fail,
    );
    const signaling = this.offer((message) => answerer.receive(message), label);
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const channelOpen = new Promise<DataChannel>((resolve, reject) => {
        failed = reject;
        timer = setTimeout(
          () => reject(new Error(`Chromium DataChannel did not open within ${timeoutMs} ms`)),
          timeoutMs,
        );
        pc.onDataChannel((dc) => {
          try {
            resolve(dc);
          } catch {
            // resolve() does not throw; the catch only keeps node-datachannel safe.
          }
        });
      });
      const [channel] = await Promise.all([channelOpen, signaling.open]);
      const setupMs = performance.now() - started;
      const node = nodeDataChannelTransport(channel);
      return {
        node,
        nodeChannel: channel,
        nodePeer: pc,
        setupMs,
        close: async () => {
          node.close();
          try {
            pc.close();
          } catch {
            // Already closed.
          }
          await new Promise((resolve) => setTimeout(resolve, 10));
        },
      };
    } catch (error) {
      pc.close();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.browser.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * The answering side's signaling for a node-datachannel PeerConnection: applies the
 * offer, queues candidates until it is applied, and forwards the answer and local
 * candidates. Every node-datachannel callback catches (a throw would abort the process).
 */
export class Answerer {
  private remoteSet = false;
  private readonly pending: { candidate: string; mid: string }[] = [];

  constructor(
    private readonly pc: PeerConnection,
    send: (message: SignalMessage) => void,
    private readonly fail: (error: unknown) => void,
  ) {
    pc.onLocalDescription((sdp, type) => {
      this.safely(() => send({ type: type === 'answer' ? 'answer' : 'offer', sdp }));
    });
    pc.onLocalCandidate((candidate, mid) => {
      this.safely(() => send({ type: 'candidate', candidate, mid }));
    });
  }

  receive(message: SignalMessage): void {
    this.safely(() => {
      if (message.type === 'offer') {
        this.pc.setRemoteDescription(message.sdp ?? '', 'offer');
        this.remoteSet = true;
        for (const c of this.pending.splice(0)) this.pc.addRemoteCandidate(c.candidate, c.mid);
      } else if (message.type === 'candidate' && message.candidate) {
        const c = { candidate: message.candidate, mid: message.mid ?? '0' };
        if (this.remoteSet) this.pc.addRemoteCandidate(c.candidate, c.mid);
        else this.pending.push(c);
      }
    });
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.fail(error);
    }
  }
}
