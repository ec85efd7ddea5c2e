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
          .writeHead(200, { 'content-type': 'text/html' })
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

  /** Connects the page (offerer) to a new node-datachannel PeerConnection (answerer). */
  async connect(label = 'peer-http', timeoutMs = 15_000): Promise<BrowserConnection> {
    const pc = new nodeDataChannel.PeerConnection('node', loopbackRtcConfig());
    const page = this.page;
    let remoteSet = false;
    const pending: { candidate: string; mid: string }[] = [];
    let failed: ((error: Error) => void) | undefined;
    const safely = (fn: () => void): void => {
      try {
        fn();
      } catch (error) {
        failed?.(error instanceof Error ? error : new Error(String(error)));
      }
    };
    const toPage = (message: SignalMessage): void => {
      page
        .evaluate((m) => window.pf.remote(m), message)
        .catch((error: unknown) => {
          failed?.(error instanceof Error ? error : new Error(String(error)));
        });
    };
    pc.onLocalDescription((sdp, type) => {
      safely(() => toPage({ type: type === 'answer' ? 'answer' : 'offer', sdp }));
    });
    pc.onLocalCandidate((candidate, mid) => {
      safely(() => toPage({ type: 'candidate', candidate, mid }));
    });
    this.onSignal.current = (message) => {
      safely(() => {
        if (message.type === 'offer') {
          pc.setRemoteDescription(message.sdp ?? '', 'offer');
          remoteSet = true;
          for (const c of pending.splice(0)) pc.addRemoteCandidate(c.candidate, c.mid);
        } else if (message.type === 'candidate' && message.candidate) {
          const c = { candidate: message.candidate, mid: message.mid ?? '0' };
          if (remoteSet) pc.addRemoteCandidate(c.candidate, c.mid);
          else pending.push(c);
        }
      });
    };
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const channelOpen = new Promise<DataChannel>((resolve, reject) => {
        failed = reject;
        timer = setTimeout(
          () => reject(new Error(`Chromium DataChannel did not open within ${timeoutMs} ms`)),
          timeoutMs,
        );
        pc.onDataChannel((dc) => safely(() => resolve(dc)));
      });
      const [channel] = await Promise.all([
        channelOpen,
        page.evaluate((l) => window.pf.connect(l), label),
      ]);
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
      this.onSignal.current = undefined;
    }
  }

  async close(): Promise<void> {
    await this.browser.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
