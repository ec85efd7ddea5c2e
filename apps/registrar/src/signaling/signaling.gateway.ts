// Console signaling over WebSocket (`/api/signal`), relayed to agents over MQTT.
// - Authenticated like the REST API (Bearer header, `bearer.<token>` subprotocol, or the
//   session cookie — same-origin only).
// - A `request` on the socket obtains a session grant like POST /api/sessions (same checks,
//   same audit entry), answered by `ticket`: a console needs no HTTP request per session.
// - The socket's login session is re-checked when it is older than AUTHZ_CACHE_TTL_MS
//   before a request or an offer (signed out, expired, disabled, membership gone: the
//   socket is closed), and at once when it is signed out (or its user's password changed,
//   ending the user's other sessions) on this replica.
// - An offer carries the grant from a request (or POST /api/sessions): it must verify with this
//   registrar's key, belong to this user and org, and the user must still hold at least the
//   granted role on the device. The session id is the grant's `sid`.
// - Stateless replicas: every replica subscribes to all agents' signal/out; only the one
//   holding the console's socket for that session id forwards the message.
// - Only signaling passes here (SDP, ICE candidates), rate-limited, counted in the
//   WebSocket byte metrics; the audit log records who, when, which device and the ICE path
//   type, never SDP or candidates.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { CryptoError, verifyGrant } from '@peerfetch/crypto';
import { WebSocket, WebSocketServer } from 'ws';
import { AuditService } from '../audit/audit.service.js';
import { AuthService } from '../auth/auth.service.js';
import { SESSION_COOKIE } from '../auth/auth.guard.js';
import type { Principal } from '../auth/auth.types.js';
import { CONFIG, type RegistrarConfig } from '../config/config.js';
import { DevicesRepository } from '../devices/devices.repository.js';
import { GrantsService } from '../grants/grants.service.js';
import { grantRoleAtLeast } from '../grants/grants.types.js';
import { nodeVerify } from '@peerfetch/crypto/node';
import { REGISTRAR_KEY, type RegistrarKey } from '../keys/registrar-key.js';
import { MqttService } from '../mqtt/mqtt.service.js';
import { MetricsService } from '../observability/metrics.service.js';
import { AUTHZ_CACHE_TTL_MS } from '../common/ttl-cache.js';
import { DomainError } from '../common/errors.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { OrgsService } from '../orgs/orgs.service.js';
import { sessionIceServers } from '../sessions/ice-servers.js';
import {
  agentMessageSchema,
  type ConsoleMessage,
  consoleMessageSchema,
  type ServerMessage,
  TokenBucket,
} from './signaling.messages.js';

export const SIGNAL_PATH = '/api/signal';
const MAX_MESSAGE = 64 * 1024;

interface Conn {
  ws: WebSocket;
  principal: Principal;
  /** When the login session was last found valid (ms). */
  checkedAt: number;
  ip: string | null;
  bucket: TokenBucket;
  sessions: Set<string>;
  /**
   * The connection's messages, handled one after another in the order they came: an offer
   * awaits its grant and authorization checks, and the candidates a browser trickles right
   * behind it must not overtake it (they would find no session yet: NOT_FOUND).
   */
  queue: Promise<void>;
}

interface SessionRoute {
  conn: Conn;
  deviceId: string;
}

function tokenFromUpgrade(req: IncomingMessage): { token: string; viaCookie: boolean } | null {
  const auth = req.headers.authorization;
  const bearer = typeof auth === 'string' ? /^Bearer ([A-Za-z0-9_-]{16,128})$/.exec(auth) : null;
  if (bearer?.[1]) return { token: bearer[1], viaCookie: false };
  const protocols = String(req.headers['sec-websocket-protocol'] ?? '').split(',');
  for (const p of protocols.map((x) => x.trim())) {
    const m = /^bearer\.([A-Za-z0-9_-]{16,128})$/.exec(p);
    if (m?.[1]) return { token: m[1], viaCookie: false };
  }
  for (const part of String(req.headers.cookie ?? '').split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === SESSION_COOKIE && rest.length > 0)
      return { token: rest.join('='), viaCookie: true };
  }
  return null;
}

/** Close code of a socket whose login session has ended (application range 4000–4999). */
export const CLOSE_SESSION_ENDED = 4401;

/** Cookie-authenticated sockets must come from the same origin (no cross-site hijacking). */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

function reject(socket: Duplex, status: number, text: string): void {
  socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

@Injectable()
export class SignalingGateway implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Signaling');
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE,
    handleProtocols: (protocols) => (protocols.has('pf-signal.v1') ? 'pf-signal.v1' : false),
  });
  private readonly conns = new Set<Conn>();
  private readonly routes = new Map<string, SessionRoute>();

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly auth: AuthService,
    private readonly grants: GrantsService,
    private readonly devices: DevicesRepository,
    private readonly orgs: OrgsService,
    private readonly mqtt: MqttService,
    private readonly audit: AuditService,
    private readonly sessions: SessionsService,
    private readonly metrics: MetricsService,
    @Inject(CONFIG) private readonly config: RegistrarConfig,
    @Inject(REGISTRAR_KEY) private readonly key: RegistrarKey,
  ) {}

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.upgrade(req, socket, head).catch((error: unknown) => {
        this.logger.error({ err: error }, 'WebSocket upgrade failed');
        reject(socket, 500, 'Internal Server Error');
      });
    });
    this.mqtt.onSignalOut((deviceId, message) => this.fromAgent(deviceId, message));
    this.auth.onSessionsEnded((ended) => {
      for (const conn of this.conns) {
        const { sessionHash, userId, orgId } = conn.principal;
        const gone =
          'sessionHash' in ended
            ? sessionHash === ended.sessionHash
            : userId === ended.userId &&
              ('orgId' in ended ? orgId === ended.orgId : sessionHash !== ended.except);
        if (gone) this.endSession(conn);
      }
    });
    this.mqtt.onPresence((e) => {
      this.pushPresence(e).catch((error: unknown) =>
        this.logger.warn({ err: error }, 'presence push failed'),
      );
    });
  }

  onApplicationShutdown(): void {
    for (const c of this.conns) c.ws.terminate();
    this.wss.close();
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path !== SIGNAL_PATH) return reject(socket, 404, 'Not Found');
    const found = tokenFromUpgrade(req);
    if (found?.viaCookie && !sameOrigin(req)) return reject(socket, 403, 'Forbidden');
    const principal = found ? await this.auth.authenticate(found.token) : null;
    if (!principal) return reject(socket, 401, 'Unauthorized');
    const ip = req.socket.remoteAddress ?? null;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, principal, ip));
  }

  private accept(ws: WebSocket, principal: Principal, ip: string | null): void {
    const conn: Conn = {
      ws,
      principal,
      checkedAt: Date.now(),
      ip,
      bucket: new TokenBucket(100, 50),
      sessions: new Set(),
      queue: Promise.resolve(),
    };
    this.conns.add(conn);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.metrics.wsBytesIn.inc(data.length);
      if (!conn.bucket.take()) {
        this.send(conn, {
          type: 'error',
          code: 'RATE_LIMITED',
          message: 'too many signaling messages',
        });
        ws.close(1008, 'rate limited');
        return;
      }
      conn.queue = conn.queue
        .then(() => this.onMessage(conn, data, isBinary))
        .catch((error: unknown) => {
          this.logger.error({ err: error }, 'signaling message failed');
          this.send(conn, { type: 'error', code: 'INTERNAL', message: 'internal error' });
        });
    });
    ws.on('close', () => {
      this.conns.delete(conn);
      for (const sessionId of conn.sessions) this.routes.delete(sessionId);
    });
    ws.on('error', () => undefined);
    this.send(conn, { type: 'ready', userId: principal.userId, orgId: principal.orgId });
  }

  private send(conn: Conn, message: ServerMessage): void {
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    const text = JSON.stringify(message);
    this.metrics.wsBytesOut.inc(Buffer.byteLength(text));
    conn.ws.send(text);
  }

  private async onMessage(conn: Conn, data: Buffer, isBinary: boolean): Promise<void> {
    let json: unknown;
    try {
      json = isBinary ? undefined : JSON.parse(data.toString('utf8'));
    } catch {
      json = undefined;
    }
    const parsed = consoleMessageSchema.safeParse(json);
    if (!parsed.success) {
      this.send(conn, {
        type: 'error',
        code: 'VALIDATION_FAILED',
        message: `invalid signaling message: ${parsed.error.issues
          .slice(0, 3)
          .map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`)
          .join('; ')}`,
      });
      return;
    }
    const m: ConsoleMessage = parsed.data;
    switch (m.type) {
      case 'request':
        return this.request(conn, m);
      case 'offer':
        return this.offer(conn, m);
      case 'candidate':
      case 'hangup':
      case 'connected': {
        const route = this.routes.get(m.sessionId);
        if (!route || route.conn !== conn) {
          this.send(conn, {
            type: 'error',
            code: 'NOT_FOUND',
            message: 'unknown session on this connection',
            sessionId: m.sessionId,
          });
          return;
        }
        if (m.type === 'connected') {
          await this.audit.record({
            orgId: conn.principal.orgId,
            actorType: 'user',
            actorId: conn.principal.userId,
            action: 'session.connected',
            targetType: 'device',
            targetId: route.deviceId,
            details: { sessionId: m.sessionId, path: m.path },
            sourceIp: conn.ip,
          });
          return;
        }
        await this.mqtt.sendToDevice(route.deviceId, m);
        if (m.type === 'hangup') {
          this.routes.delete(m.sessionId);
          conn.sessions.delete(m.sessionId);
        }
        return;
      }
    }
  }

  /**
   * Tells the console why and closes its socket; the device sessions it signaled are hung
   * up on their agents, so a removed member (or a signed-out session) keeps no channel open
   * until its grant expires.
   */
  private endSession(conn: Conn): void {
    this.send(conn, {
      type: 'error',
      code: 'UNAUTHENTICATED',
      message: 'your login session has ended: sign in again',
    });
    for (const sessionId of conn.sessions) {
      const route = this.routes.get(sessionId);
      if (route?.conn !== conn) continue;
      this.mqtt
        .sendToDevice(route.deviceId, { type: 'hangup', sessionId, reason: 'login session ended' })
        .catch((error: unknown) =>
          this.logger.warn({ err: error, sessionId }, 'hangup after a login session ended failed'),
        );
    }
    conn.ws.close(CLOSE_SESSION_ENDED, 'login session ended');
  }

  /**
   * The socket's principal, re-read from the database once its last check is older than
   * the authorization caches' TTL; null (and the socket closed) once the session is gone.
   */
  private async principalOf(conn: Conn): Promise<Principal | null> {
    if (Date.now() - conn.checkedAt < AUTHZ_CACHE_TTL_MS) return conn.principal;
    const current = await this.auth.authenticateHash(conn.principal.sessionHash);
    if (!current) {
      this.endSession(conn);
      return null;
    }
    conn.principal = current;
    conn.checkedAt = Date.now();
    return current;
  }

  private async request(
    conn: Conn,
    m: Extract<ConsoleMessage, { type: 'request' }>,
  ): Promise<void> {
    const p = await this.principalOf(conn);
    if (!p) return;
    try {
      const ticket = await this.sessions.request(
        p,
        { deviceId: m.deviceId, sessionKey: m.sessionKey, role: m.role },
        conn.ip,
      );
      this.send(conn, { type: 'ticket', requestId: m.requestId, ...ticket });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      this.send(conn, {
        type: 'error',
        code: error.code,
        message: error.message,
        requestId: m.requestId,
      });
    }
  }

  private async offer(conn: Conn, m: Extract<ConsoleMessage, { type: 'offer' }>): Promise<void> {
    const p = await this.principalOf(conn);
    if (!p) return;
    const refuse = (code: string, message: string) =>
      this.send(conn, { type: 'error', code, message });
    let grant;
    try {
      grant = await verifyGrant(m.grant, {
        registrarKey: this.key.publicJwk,
        deviceId: m.deviceId,
        issuer: this.config.registrarId,
        // a grant this replica signed moments ago (a `request` or POST /api/sessions) is
        // recognised byte for byte; any other is verified
        verifySignature: (signature, message, publicKey) =>
          this.sessions.signedHere(signature, message) || nodeVerify(signature, message, publicKey),
      });
    } catch (error) {
      if (error instanceof CryptoError)
        return refuse('GRANT_INVALID', `grant rejected: ${error.message}`);
      throw error;
    }
    if (grant.sub !== p.userId || grant.org !== p.orgId || !grant.sid) {
      return refuse('GRANT_INVALID', 'this grant was not issued to you for a session');
    }
    // The grant may be older than a revocation: check the user's current rights.
    const device = await this.devices.authzTarget(p.orgId, m.deviceId);
    const role = device ? await this.grants.effectiveRole(p, device) : null;
    if (!device || !role || device.status === 'revoked' || !grantRoleAtLeast(role, grant.role)) {
      await this.audit.record({
        orgId: p.orgId,
        actorType: 'user',
        actorId: p.userId,
        action: 'session.refused',
        targetType: 'device',
        targetId: m.deviceId,
        details: { sessionId: grant.sid, requested: grant.role, held: role },
        sourceIp: conn.ip,
      });
      return refuse('FORBIDDEN', 'you may not signal this device');
    }
    const existing = this.routes.get(grant.sid);
    if (existing && existing.conn !== conn) return refuse('CONFLICT', 'session already in use');
    const iceServers = sessionIceServers({
      orgServers: (await this.orgs.settings(p.orgId)).iceServers,
      turn: this.config.turn,
      sessionId: grant.sid,
      party: 'device',
      expiresAt: grant.exp * 1000,
    });
    this.routes.set(grant.sid, { conn, deviceId: device.id });
    conn.sessions.add(grant.sid);
    await this.mqtt.sendToDevice(device.id, {
      type: 'offer',
      sessionId: grant.sid,
      sdp: m.sdp,
      grant: m.grant,
      iceServers,
    });
    await this.audit.record({
      orgId: p.orgId,
      actorType: 'user',
      actorId: p.userId,
      action: 'session.signal',
      targetType: 'device',
      targetId: device.id,
      details: { sessionId: grant.sid, role: grant.role },
      sourceIp: conn.ip,
    });
    this.send(conn, { type: 'session', sessionId: grant.sid, deviceId: device.id });
  }

  /** A message from an agent: forwarded only if this replica holds the session's socket. */
  private fromAgent(deviceId: string, message: unknown): void {
    const parsed = agentMessageSchema.safeParse(message);
    if (!parsed.success) return;
    const route = this.routes.get(parsed.data.sessionId);
    // The session must belong to the device that published (topic identity, broker-enforced).
    if (!route || route.deviceId !== deviceId) return;
    if (parsed.data.type === 'connected') {
      // the device's side of the session's path, for the audit trail (the console reports its own)
      void this.audit.record({
        orgId: route.conn.principal.orgId,
        actorType: 'device',
        actorId: deviceId,
        action: 'session.connected',
        targetType: 'device',
        targetId: deviceId,
        details: {
          sessionId: parsed.data.sessionId,
          path: parsed.data.path,
          pair: parsed.data.pair,
          userId: route.conn.principal.userId,
        },
        sourceIp: null,
      });
      return;
    }
    this.send(route.conn, parsed.data);
    if (parsed.data.type === 'hangup' || parsed.data.type === 'error') {
      this.routes.delete(parsed.data.sessionId);
      route.conn.sessions.delete(parsed.data.sessionId);
    }
  }

  private async pushPresence(e: {
    deviceId: string;
    orgId: string;
    status: 'online' | 'offline';
  }): Promise<void> {
    const ts = Date.now();
    const device = await this.devices.authzTarget(e.orgId, e.deviceId);
    if (!device) return;
    for (const conn of this.conns) {
      if (conn.principal.orgId !== e.orgId) continue;
      if ((await this.grants.effectiveRole(conn.principal, device)) === null) continue;
      this.send(conn, { type: 'presence', deviceId: e.deviceId, status: e.status, ts });
    }
  }
}
