// Two registrar replicas on one PostgreSQL and one broker: a console on replica B signals a
// device whose agent talks MQTT through the broker of replica A. Grants are enforced, the
// relay is per session and per device, and the audit log records sessions without payload.
import { createHmac } from 'node:crypto';
import { createSigner, exportPublicJwk, generateKeyPair } from '@peerfetch/crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Registrar } from '../src/app.js';
import {
  Api,
  createTestDatabase,
  newAgent,
  startRegistrar,
  type TestDatabase,
  tempDir,
} from './helpers.js';

const REGISTRAR_SECRET = 'shared-registrar-mqtt-secret';
const TURN = {
  TURN_URLS: 'turn:turn.example.com:3478?transport=udp',
  TURN_SECRET: 'shared-turn-secret-of-both-replicas',
};
let db: TestDatabase;
let dir: Awaited<ReturnType<typeof tempDir>>;
let replicaA: Registrar;
let replicaB: Registrar;
let adminA: Api;
let adminB: Api;
const closers: Array<() => Promise<unknown> | void> = [];

/** A console WebSocket with a message inbox. */
async function openConsole(baseUrl: string, token: string) {
  const ws = new WebSocket(`${baseUrl.replace('http', 'ws')}/api/signal`, [
    'pf-signal.v1',
    `bearer.${token}`,
  ]);
  const inbox: any[] = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (data: Buffer) => {
    inbox.push(JSON.parse(data.toString()));
    waiters.splice(0).forEach((w) => w());
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  closers.push(() => ws.close());
  return {
    ws,
    send: (m: unknown) => ws.send(JSON.stringify(m)),
    /** Next message matching `pred` (removed from the inbox). */
    async next(pred: (m: any) => boolean = () => true): Promise<any> {
      for (;;) {
        const i = inbox.findIndex(pred);
        if (i >= 0) return inbox.splice(i, 1)[0];
        await new Promise<void>((r) => waiters.push(r));
      }
    },
  };
}

/** A simulated agent on MQTT that records what it receives on signal/in. */
async function startAgent(creds: { url: string; username: string; password: string }) {
  const client: MqttClient = await mqtt.connectAsync(creds.url, {
    clientId: creds.username,
    username: creds.username,
    password: creds.password,
    reconnectPeriod: 0,
  });
  closers.push(() => client.endAsync(true));
  const inbox: any[] = [];
  const waiters: Array<() => void> = [];
  client.on('message', (_t, payload) => {
    inbox.push(JSON.parse(payload.toString()));
    waiters.splice(0).forEach((w) => w());
  });
  await client.subscribeAsync(`pf/v1/dev/${creds.username}/signal/in`, { qos: 1 });
  return {
    client,
    publish: (kind: string, m: unknown, retain = false) =>
      client.publishAsync(`pf/v1/dev/${creds.username}/${kind}`, JSON.stringify(m), {
        qos: 1,
        retain,
      }),
    async next(): Promise<any> {
      while (inbox.length === 0) await new Promise<void>((r) => waiters.push(r));
      return inbox.shift();
    },
  };
}

async function enrollAgent(api: Api) {
  const code = await api.post('/api/claim-codes', { tags: ['sig'] });
  const r = await newAgent().enroll(api, code.body.code);
  expect(r.status).toBe(201);
  return { deviceId: r.body.deviceId as string, ...r.body.mqtt };
}

async function ticket(api: Api, deviceId: string, role?: string) {
  const key = createSigner(generateKeyPair());
  const r = await api.post('/api/sessions', {
    deviceId,
    sessionKey: exportPublicJwk(key.publicKey),
    ...(role ? { role } : {}),
  });
  return r;
}

/** A new member of the org (no grants yet), signed in on replica A. */
async function newMember(email: string, password: string) {
  await adminA.post('/api/users', { email, name: email.split('@')[0], password, role: 'member' });
  const api = await new Api(replicaA.url).login(email, password);
  const id = (await api.get('/api/auth/me')).body.user.id as string;
  return { api, id };
}

/** An enrolled agent on A's broker, a console on replica B (ready), a session ticket. */
async function agentConsoleAndTicket() {
  const creds = await enrollAgent(adminA);
  const agent = await startAgent(creds);
  const consoleB = await openConsole(replicaB.url, adminB.token!);
  expect(await consoleB.next()).toMatchObject({ type: 'ready' });
  const t = await ticket(adminA, creds.deviceId);
  expect(t.status).toBe(201);
  return { creds, agent, consoleB, t };
}

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await tempDir();
  replicaA = await startRegistrar({
    DATABASE_URL: db.url,
    DATA_DIR: dir.path,
    MQTT_PASSWORD: REGISTRAR_SECRET,
    ...TURN,
  });
  adminA = await new Api(replicaA.url).login();
  const brokerUrl = (await enrollAgent(adminA)).url;
  replicaB = await startRegistrar({
    DATABASE_URL: db.url,
    DATA_DIR: dir.path,
    MQTT_URL: brokerUrl,
    MQTT_USERNAME: 'pf-registrar',
    MQTT_PASSWORD: REGISTRAR_SECRET,
    ...TURN,
  });
  adminB = new Api(replicaB.url, adminA.token);
});

afterAll(async () => {
  for (const c of closers.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
  await replicaB?.close();
  await replicaA?.close();
  await db?.drop();
  await dir?.remove();
});

describe('signaling across replicas', () => {
  it('relays offer, answer and candidates between a console on B and an agent on A’s broker', async () => {
    const { creds, agent, consoleB, t } = await agentConsoleAndTicket();
    consoleB.send({
      type: 'offer',
      deviceId: creds.deviceId,
      grant: t.body.grant,
      sdp: 'v=0 offer',
    });
    expect(await consoleB.next()).toEqual({
      type: 'session',
      sessionId: t.body.sessionId,
      deviceId: creds.deviceId,
    });

    const offer = await agent.next();
    expect(offer).toMatchObject({
      type: 'offer',
      sessionId: t.body.sessionId,
      sdp: 'v=0 offer',
      grant: t.body.grant,
    });
    // the device gets TURN credentials of its own for this session, minted by replica B
    // (which holds the console's socket) with the secret every replica shares
    const [turn] = offer.iceServers as { urls: string[]; username: string; credential: string }[];
    expect(offer.iceServers).toHaveLength(1);
    expect(turn?.urls).toEqual([TURN.TURN_URLS]);
    const [expiry, user] = String(turn?.username).split(':');
    expect(user).toBe(`${t.body.sessionId}.device`);
    const consoleTurn = (t.body.iceServers as { username: string }[])[0];
    expect(consoleTurn?.username).toMatch(new RegExp(`:${t.body.sessionId}\\.console$`));
    const grantExp = JSON.parse(
      Buffer.from(String(t.body.grant).split('.')[1] ?? '', 'base64url').toString(),
    ).exp as number;
    expect(Number(expiry)).toBe(grantExp + 60);
    expect(turn?.credential).toBe(
      createHmac('sha1', TURN.TURN_SECRET).update(String(turn?.username)).digest('base64'),
    );

    await agent.publish('signal/out', {
      type: 'answer',
      sessionId: t.body.sessionId,
      sdp: 'v=0 answer',
    });
    expect(await consoleB.next()).toEqual({
      type: 'answer',
      sessionId: t.body.sessionId,
      sdp: 'v=0 answer',
    });

    consoleB.send({
      type: 'candidate',
      sessionId: t.body.sessionId,
      candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host',
      mid: '0',
    });
    expect(await agent.next()).toMatchObject({
      type: 'candidate',
      sessionId: t.body.sessionId,
      mid: '0',
    });
    await agent.publish('signal/out', {
      type: 'candidate',
      sessionId: t.body.sessionId,
      candidate: 'c2',
      mid: '0',
    });
    expect(await consoleB.next()).toMatchObject({ type: 'candidate', candidate: 'c2' });

    consoleB.send({ type: 'connected', sessionId: t.body.sessionId, path: 'host' });
    // the agent reports its side of the path: audited, not relayed to the console
    await agent.publish('signal/out', {
      type: 'connected',
      sessionId: t.body.sessionId,
      path: 'relay',
      pair: 'srflx→relay',
    });
    await agent.publish('signal/out', {
      type: 'candidate',
      sessionId: t.body.sessionId,
      candidate: 'c3',
      mid: '0',
    });
    expect(await consoleB.next()).toMatchObject({ type: 'candidate', candidate: 'c3' });
    consoleB.send({ type: 'hangup', sessionId: t.body.sessionId });
    expect(await agent.next()).toMatchObject({ type: 'hangup', sessionId: t.body.sessionId });

    // Asked of the replica that recorded the events (the audit is written in batches: other
    // replicas see them after the flush interval).
    const log = (await adminB.get(`/api/audit?targetId=${creds.deviceId}&limit=50`)).body.items;
    const signal = log.find((e: any) => e.action === 'session.signal');
    expect(signal.details).toEqual({ sessionId: t.body.sessionId, role: 'admin' });
    const connected = log.filter((e: any) => e.action === 'session.connected');
    expect(connected.find((e: any) => e.actorType === 'user').details).toEqual({
      sessionId: t.body.sessionId,
      path: 'host',
    });
    const byDevice = connected.find((e: any) => e.actorType === 'device');
    expect(byDevice.actorId).toBe(creds.deviceId);
    expect(byDevice.details).toMatchObject({
      sessionId: t.body.sessionId,
      path: 'relay',
      pair: 'srflx→relay',
    });
    // no TURN credential in the audit either
    expect(JSON.stringify(log)).not.toContain(TURN.TURN_SECRET);
    // No payload in the audit log: no SDP, no candidates.
    expect(JSON.stringify(log)).not.toMatch(/v=0|candidate:1/);

    const metrics = await (await fetch(`${replicaB.url}/metrics`)).text();
    expect(Number(/^registrar_ws_bytes_in_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(Number(/^registrar_ws_bytes_out_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
  });

  it('candidates sent right behind the offer follow it, in order (never NOT_FOUND)', async () => {
    // A browser trickles its candidates as soon as it has the offer; they reach the
    // registrar while it still checks the offer's grant and the user's rights.
    const { creds, agent, consoleB, t } = await agentConsoleAndTicket();
    const sessionId = t.body.sessionId as string;
    const candidates = [1, 2, 3].map((i) => ({
      type: 'candidate',
      sessionId,
      candidate: `candidate:${i} 1 udp 1 127.0.0.1 500${i} typ host`,
      mid: '0',
    }));
    consoleB.send({ type: 'offer', deviceId: creds.deviceId, grant: t.body.grant, sdp: 'v=0' });
    for (const c of candidates) consoleB.send(c);
    const got = [await agent.next(), await agent.next(), await agent.next(), await agent.next()];
    expect(got.map((m) => m.type)).toEqual(['offer', 'candidate', 'candidate', 'candidate']);
    expect(got.slice(1).map((m) => m.candidate)).toEqual(candidates.map((c) => c.candidate));
    // the console heard of its session, then of no error: a malformed message as a barrier
    // (handled after everything before it) gets the first and only error
    expect(await consoleB.next((m) => m.type !== 'presence')).toMatchObject({ type: 'session' });
    consoleB.send({ type: 'offer' });
    const next = await consoleB.next((m) => m.type !== 'presence');
    expect(next).toMatchObject({ type: 'error', code: 'VALIDATION_FAILED' });
    consoleB.send({ type: 'hangup', sessionId });
    expect(await agent.next()).toMatchObject({ type: 'hangup', sessionId });
  });

  it('another device cannot answer for a session it does not own', async () => {
    const target = await enrollAgent(adminA);
    const intruderCreds = await enrollAgent(adminA);
    const agent = await startAgent(target);
    const intruder = await startAgent(intruderCreds);
    const c = await openConsole(replicaB.url, adminB.token!);
    await c.next((m) => m.type === 'ready');
    const t = await ticket(adminA, target.deviceId);
    c.send({ type: 'offer', deviceId: target.deviceId, grant: t.body.grant, sdp: 'v=0' });
    await c.next((m) => m.type === 'session');
    await agent.next();
    await intruder.publish('signal/out', {
      type: 'answer',
      sessionId: t.body.sessionId,
      sdp: 'forged',
    });
    await agent.publish('signal/out', {
      type: 'answer',
      sessionId: t.body.sessionId,
      sdp: 'genuine',
    });
    expect(await c.next((m) => m.type === 'answer')).toMatchObject({ sdp: 'genuine' });
  });

  it('refuses offers without a valid grant of one’s own, and after the grant is removed', async () => {
    const creds = await enrollAgent(adminA);
    const { api: member, id: memberId } = await newMember('m@example.com', 'member password 1');
    const c = await openConsole(replicaB.url, member.token!);
    await c.next((m) => m.type === 'ready');

    // Someone else's grant.
    const adminTicket = await ticket(adminA, creds.deviceId);
    c.send({ type: 'offer', deviceId: creds.deviceId, grant: adminTicket.body.grant, sdp: 'v=0' });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'GRANT_INVALID' });
    // A forged one.
    c.send({
      type: 'offer',
      deviceId: creds.deviceId,
      grant: 'eyJhbGciOiJub25lIn0.e30.',
      sdp: 'v=0',
    });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'GRANT_INVALID' });

    // A viewer grant works until it is removed.
    const g = await adminA.post('/api/grants', {
      userId: memberId,
      deviceId: creds.deviceId,
      role: 'viewer',
    });
    const mine = await ticket(member, creds.deviceId);
    expect(mine.status).toBe(201);
    expect((await ticket(member, creds.deviceId, 'operator')).status).toBe(403);
    await adminA.delete(`/api/grants/${g.body.id}`);
    c.send({ type: 'offer', deviceId: creds.deviceId, grant: mine.body.grant, sdp: 'v=0' });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
    const refused = (await adminB.get('/api/audit?action=session.refused')).body.items;
    expect(refused.some((e: any) => e.details.sessionId === mine.body.sessionId)).toBe(true);

    // Messages for sessions this socket does not own, and junk, are refused.
    c.send({ type: 'candidate', sessionId: adminTicket.body.sessionId, candidate: 'x', mid: '0' });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
    c.ws.send('not json');
    expect(await c.next()).toMatchObject({ type: 'error', code: 'VALIDATION_FAILED' });
  });

  it('a grant removed or a device revoked on this replica refuses the next offer at once', async () => {
    // Authorization data is cached for signaling; a change through this replica clears it.
    const creds = await enrollAgent(adminA);
    const agent = await startAgent(creds);
    const { api: member, id: memberId } = await newMember('cache@example.com', 'member password 2');
    const g = await adminA.post('/api/grants', {
      userId: memberId,
      deviceId: creds.deviceId,
      role: 'viewer',
    });
    const first = await ticket(member, creds.deviceId);
    const second = await ticket(member, creds.deviceId);
    const c = await openConsole(replicaA.url, member.token!);
    await c.next((m) => m.type === 'ready');
    c.send({ type: 'offer', deviceId: creds.deviceId, grant: first.body.grant, sdp: 'v=0' });
    expect(await c.next()).toMatchObject({ type: 'session', sessionId: first.body.sessionId });
    expect(await agent.next()).toMatchObject({ type: 'offer', sessionId: first.body.sessionId });

    expect((await adminA.delete(`/api/grants/${g.body.id}`)).status).toBe(204);
    c.send({ type: 'offer', deviceId: creds.deviceId, grant: second.body.grant, sdp: 'v=0' });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'FORBIDDEN' });

    // The same for an admin and a device revoked after a first offer.
    const admin = await openConsole(replicaA.url, adminA.token!);
    await admin.next((m) => m.type === 'ready');
    const a1 = await ticket(adminA, creds.deviceId);
    const a2 = await ticket(adminA, creds.deviceId);
    admin.send({ type: 'offer', deviceId: creds.deviceId, grant: a1.body.grant, sdp: 'v=0' });
    expect(await admin.next()).toMatchObject({ type: 'session', sessionId: a1.body.sessionId });
    expect((await adminA.post(`/api/devices/${creds.deviceId}/revoke`, {})).status).toBeLessThan(
      300,
    );
    admin.send({ type: 'offer', deviceId: creds.deviceId, grant: a2.body.grant, sdp: 'v=0' });
    expect(await admin.next()).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
  });

  it('a device revoked on another replica is refused there once the cache entry expires', async () => {
    const creds = await enrollAgent(adminA);
    const c = await openConsole(replicaB.url, adminB.token!);
    await c.next((m) => m.type === 'ready');
    const t = await ticket(adminB, creds.deviceId);
    c.send({ type: 'offer', deviceId: creds.deviceId, grant: t.body.grant, sdp: 'v=0' });
    expect(await c.next()).toMatchObject({ type: 'session', sessionId: t.body.sessionId });
    expect((await adminA.post(`/api/devices/${creds.deviceId}/revoke`, {})).status).toBeLessThan(
      300,
    );
    // Re-offering the same session is allowed while B's cached view is valid (bounded by
    // AUTHZ_CACHE_TTL_MS); then B reads the revocation.
    for (;;) {
      c.send({ type: 'offer', deviceId: creds.deviceId, grant: t.body.grant, sdp: 'v=0' });
      const m = await c.next();
      if (m.type === 'error') {
        expect(m).toMatchObject({ code: 'FORBIDDEN' });
        break;
      }
      expect(m).toMatchObject({ type: 'session' });
      await new Promise((r) => setTimeout(r, 250));
    }
  });

  it('a session request on the socket returns a ticket like POST /api/sessions, and its grant signals', async () => {
    const creds = await enrollAgent(adminA);
    const agent = await startAgent(creds);
    const c = await openConsole(replicaB.url, adminB.token!);
    await c.next((m) => m.type === 'ready');
    const sessionKey = exportPublicJwk(createSigner(generateKeyPair()).publicKey);
    c.send({ type: 'request', requestId: 'r-1', deviceId: creds.deviceId, sessionKey });
    const t = await c.next();
    expect(t).toMatchObject({
      type: 'ticket',
      requestId: 'r-1',
      deviceId: creds.deviceId,
      role: 'admin',
      sessionId: expect.any(String),
      grant: expect.any(String),
      expiresAt: expect.any(String),
    });
    // TURN credentials minted for this session's console, as over REST
    expect(t.iceServers.some((s: any) => String(s.urls).startsWith('turn:'))).toBe(true);
    // The replica recognises its own fresh grants without a signature check: only byte for
    // byte. Its signature under another payload (a stronger role) is refused…
    const [h, payload, sig] = t.grant.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, role: 'owner' })).toString('base64url')}.${sig}`;
    c.send({ type: 'offer', deviceId: creds.deviceId, grant: forged, sdp: 'v=0 offer' });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'GRANT_INVALID' });
    // …and leaves the real grant usable.
    c.send({ type: 'offer', deviceId: creds.deviceId, grant: t.grant, sdp: 'v=0 offer' });
    expect(await c.next()).toMatchObject({ type: 'session', sessionId: t.sessionId });
    expect(await agent.next()).toMatchObject({ type: 'offer', sessionId: t.sessionId });
    const audit = (await adminB.get('/api/audit?action=session.request')).body.items;
    expect(audit.some((e: any) => e.details.sessionId === t.sessionId)).toBe(true);
  });

  it('a refused session request answers with its requestId: unknown device, role above the grant, bad key', async () => {
    const creds = await enrollAgent(adminA);
    const { api: viewer, id: viewerId } = await newMember(
      'ws-viewer@example.com',
      'viewer password 1',
    );
    await adminA.post('/api/grants', {
      userId: viewerId,
      deviceId: creds.deviceId,
      role: 'viewer',
    });
    const c = await openConsole(replicaB.url, viewer.token!);
    await c.next((m) => m.type === 'ready');
    const sessionKey = exportPublicJwk(createSigner(generateKeyPair()).publicKey);
    c.send({
      type: 'request',
      requestId: 'unknown',
      deviceId: '00000000-0000-4000-8000-000000000000',
      sessionKey,
    });
    expect(await c.next()).toMatchObject({
      type: 'error',
      code: 'NOT_FOUND',
      requestId: 'unknown',
    });
    c.send({
      type: 'request',
      requestId: 'above',
      deviceId: creds.deviceId,
      sessionKey,
      role: 'operator',
    });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'FORBIDDEN', requestId: 'above' });
    const refused = (await adminB.get('/api/audit?action=session.refused')).body.items;
    expect(refused.some((e: any) => e.actorId === viewerId && e.targetId === creds.deviceId)).toBe(
      true,
    );
    c.send({
      type: 'request',
      requestId: 'bad-key',
      deviceId: creds.deviceId,
      sessionKey: { ...sessionKey, x: 'short' },
    });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'VALIDATION_FAILED' });
    c.send({ type: 'request', requestId: 'no spaces', deviceId: creds.deviceId, sessionKey });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'VALIDATION_FAILED' });
    // the viewer's own role still works
    c.send({ type: 'request', requestId: 'ok', deviceId: creds.deviceId, sessionKey });
    expect(await c.next()).toMatchObject({ type: 'ticket', requestId: 'ok', role: 'viewer' });
  });

  it('signing out or a password change closes the socket at once; a session ended elsewhere is noticed before the next request', async () => {
    const creds = await enrollAgent(adminA);
    const sessionKey = exportPublicJwk(createSigner(generateKeyPair()).publicKey);
    const closed = (ws: WebSocket) =>
      new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));

    // Signed out through this replica: closed with 4401 right away.
    const here = await new Api(replicaB.url).login();
    const c1 = await openConsole(replicaB.url, here.token!);
    await c1.next((m) => m.type === 'ready');
    const c1Closed = closed(c1.ws);
    expect((await here.post('/api/auth/logout', {})).status).toBeLessThan(300);
    expect(await c1Closed).toBe(4401);
    expect(await c1.next()).toMatchObject({ type: 'error', code: 'UNAUTHENTICATED' });

    // A password change through this replica ends the user's other sessions' sockets at
    // once, and keeps the socket of the session that changed it.
    const { api: first } = await newMember('pw-sock@example.com', 'socket password 1');
    const second = await new Api(replicaB.url).login('pw-sock@example.com', 'socket password 1');
    const keeper = new Api(replicaB.url, first.token);
    const kept = await openConsole(replicaB.url, first.token!);
    const other = await openConsole(replicaB.url, second.token!);
    await kept.next((m) => m.type === 'ready');
    await other.next((m) => m.type === 'ready');
    const otherClosed = closed(other.ws);
    const changed = await keeper.post('/api/auth/password', {
      currentPassword: 'socket password 1',
      newPassword: 'socket password 2',
    });
    expect(changed.status).toBe(204);
    expect(await otherClosed).toBe(4401);
    // still served (the member holds no grant on the device: NOT_FOUND, not UNAUTHENTICATED)
    kept.send({ type: 'request', requestId: 'kept', deviceId: creds.deviceId, sessionKey });
    expect(await kept.next((m) => m.requestId === 'kept')).toMatchObject({ code: 'NOT_FOUND' });
    expect(kept.ws.readyState).toBe(WebSocket.OPEN);

    // Signed out through the other replica: this one re-reads the session once its check is
    // older than the authorization TTL, and refuses instead of issuing a grant.
    const elsewhere = await new Api(replicaA.url).login();
    const c2 = await openConsole(replicaB.url, elsewhere.token!);
    await c2.next((m) => m.type === 'ready');
    c2.send({ type: 'request', requestId: 'before', deviceId: creds.deviceId, sessionKey });
    expect(await c2.next()).toMatchObject({ type: 'ticket', requestId: 'before' });
    const c2Closed = closed(c2.ws);
    expect((await elsewhere.post('/api/auth/logout', {})).status).toBeLessThan(300);
    await new Promise((r) => setTimeout(r, 2_100)); // AUTHZ_CACHE_TTL_MS (2 s) has passed
    c2.send({ type: 'request', requestId: 'after', deviceId: creds.deviceId, sessionKey });
    expect(await c2.next()).toMatchObject({ type: 'error', code: 'UNAUTHENTICATED' });
    expect(await c2Closed).toBe(4401);
  });

  it('removing a member closes their sockets and hangs up their device sessions at once; other members keep theirs', async () => {
    const closed = (ws: WebSocket) =>
      new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    const creds = await enrollAgent(adminA);
    const agent = await startAgent(creds);
    const { api: removed, id: removedId } = await newMember(
      'gone@example.com',
      'socket password 1',
    );
    const { api: staying } = await newMember('stays@example.com', 'socket password 1');
    const grant = await adminA.post('/api/grants', {
      userId: removedId,
      deviceId: creds.deviceId,
      role: 'viewer',
    });
    expect(grant.status).toBe(201);
    const gone = await openConsole(replicaB.url, removed.token!);
    const kept = await openConsole(replicaB.url, staying.token!);
    await gone.next((m) => m.type === 'ready');
    await kept.next((m) => m.type === 'ready');
    // A device session of the member's, signaled through the socket on replica B.
    const t = await ticket(removed, creds.deviceId);
    expect(t.status).toBe(201);
    gone.send({ type: 'offer', deviceId: creds.deviceId, grant: t.body.grant, sdp: 'v=0 offer' });
    expect(await gone.next((m) => m.type === 'session')).toMatchObject({
      sessionId: t.body.sessionId,
    });
    expect(await agent.next()).toMatchObject({ type: 'offer', sessionId: t.body.sessionId });

    const goneClosed = closed(gone.ws);
    // Removed through replica B, which holds both sockets.
    expect((await adminB.delete(`/api/users/${removedId}`)).status).toBe(204);
    expect(await goneClosed).toBe(4401);
    expect(await gone.next()).toMatchObject({ type: 'error', code: 'UNAUTHENTICATED' });
    expect(await agent.next()).toEqual({
      type: 'hangup',
      sessionId: t.body.sessionId,
      reason: 'login session ended',
    });
    expect((await removed.get('/api/auth/me')).status).toBe(401);
    // The other member's socket still works (no grant on the device: NOT_FOUND, not
    // UNAUTHENTICATED).
    const sessionKey = exportPublicJwk(createSigner(generateKeyPair()).publicKey);
    kept.send({ type: 'request', requestId: 'still', deviceId: creds.deviceId, sessionKey });
    expect(await kept.next((m) => m.requestId === 'still')).toMatchObject({ code: 'NOT_FOUND' });
    expect(kept.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('pushes presence live to consoles that may see the device', async () => {
    const creds = await enrollAgent(adminA);
    const c = await openConsole(replicaB.url, adminB.token!);
    await c.next((m) => m.type === 'ready');
    const agent = await startAgent(creds);
    await agent.publish('status', { state: 'online', agentVersion: '0.1.0', ts: Date.now() }, true);
    const before = Date.now();
    const pushed = await c.next((m) => m.type === 'presence' && m.deviceId === creds.deviceId);
    expect(pushed).toEqual({
      type: 'presence',
      deviceId: creds.deviceId,
      status: 'online',
      ts: expect.any(Number),
    });
    expect(pushed.ts).toBeGreaterThanOrEqual(before - 1_000);
    expect(pushed.ts).toBeLessThanOrEqual(Date.now());
  });

  it('refuses unauthenticated and cross-site upgrades', async () => {
    const url = `${replicaB.url.replace('http', 'ws')}/api/signal`;
    const status = (ws: WebSocket) =>
      new Promise<number>((resolve) => {
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => resolve(101));
        ws.on('error', () => undefined);
      });
    expect(await status(new WebSocket(url))).toBe(401);
    expect(
      await status(
        new WebSocket(url, { headers: { authorization: 'Bearer nope-nope-nope-nope' } }),
      ),
    ).toBe(401);
    expect(
      await status(
        new WebSocket(url, {
          headers: { cookie: `pf_session=${adminB.token}`, origin: 'https://evil.example' },
        }),
      ),
    ).toBe(403);
    const ok = new WebSocket(url, { headers: { cookie: `pf_session=${adminB.token}` } });
    expect(await status(ok)).toBe(101);
    ok.close();
    expect(await status(new WebSocket(`${replicaB.url.replace('http', 'ws')}/api/other`))).toBe(
      404,
    );
  });
});
