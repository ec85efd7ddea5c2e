// A fake registrar implementing the enrollment HTTP contract, verifying proofs with the
// real @peerfetch/crypto (the real registrar test is pending apps/registrar).
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createEnrollmentNonce,
  exportPublicJwk,
  generateKeyPair,
  verifyEnrollmentProof,
} from '@peerfetch/crypto';

export interface FakeRegistrar {
  url: string;
  registrarKey: ReturnType<typeof exportPublicJwk>;
  /** The grant-signing key pair (tests sign grants with it). */
  signingKey: ReturnType<typeof generateKeyPair>;
  enrolled: { deviceId: string; publicKey: unknown; name?: unknown; agentVersion?: unknown }[];
  requests: { path: string; body: Record<string, unknown> }[];
  /** Override the next /api/enroll response body. */
  tamper?: (body: Record<string, unknown>) => Record<string, unknown>;
  close(): Promise<void>;
}

export async function startFakeRegistrar(options: {
  code: string;
  mqttUrl: string;
}): Promise<FakeRegistrar> {
  const signingKey = generateKeyPair();
  const registrarKey = exportPublicJwk(signingKey.publicKey);
  const nonces = new Map<string, boolean>(); // nonce → used
  const state: FakeRegistrar = {
    url: '',
    registrarKey,
    signingKey,
    enrolled: [],
    requests: [],
    close: () => new Promise((r) => server.close(() => r())),
  };
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      const reply = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      let body: Record<string, unknown> = {};
      try {
        body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        return reply(400, { error: { code: 'BAD_JSON', message: 'bad json' } });
      }
      state.requests.push({ path: req.url ?? '', body });
      if (req.method === 'POST' && req.url === '/api/enroll/challenge') {
        const nonce = createEnrollmentNonce();
        nonces.set(nonce, false);
        return reply(200, { nonce, expiresAt: Date.now() + 60_000 });
      }
      if (req.method === 'POST' && req.url === '/api/enroll') {
        const nonce = String(body['nonce']);
        if (nonces.get(nonce) !== false)
          return reply(400, { error: { code: 'BAD_NONCE', message: 'unknown or used nonce' } });
        nonces.set(nonce, true);
        if (body['code'] !== options.code)
          return reply(403, {
            error: { code: 'INVALID_CLAIM_CODE', message: 'invalid claim code' },
          });
        try {
          verifyEnrollmentProof({
            code: String(body['code']),
            nonce,
            publicKey: body['publicKey'],
            proof: body['proof'],
          });
        } catch {
          return reply(400, { error: { code: 'BAD_PROOF', message: 'proof does not verify' } });
        }
        const deviceId = randomUUID();
        state.enrolled.push({
          deviceId,
          publicKey: body['publicKey'],
          name: body['name'],
          agentVersion: body['agentVersion'],
        });
        let response: Record<string, unknown> = {
          deviceId,
          orgId: 'org-test',
          registrarKey,
          mqtt: { url: options.mqttUrl, username: deviceId, password: `pw-${deviceId}` },
        };
        if (state.tamper) {
          response = state.tamper(response);
          state.tamper = undefined;
        }
        return reply(201, response);
      }
      reply(404, { error: { code: 'NOT_FOUND', message: 'no route' } });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}
