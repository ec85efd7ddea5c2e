import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  aclFixes,
  deviceAcls,
  DYNSEC_RESPONSE_TOPIC,
  DYNSEC_TOPIC,
  DynsecClient,
  DynsecError,
  type DynsecAcl,
  type DynsecTransport,
} from './dynsec.js';
import { canPublish, canSubscribe, deviceTopic, type DeviceTopicKind } from './topics.js';

const D = '0b7f3c1e-8c1a-4a59-9a57-0c9b1f0e2d11';
const E = '5d2a9e44-1f3b-4c7d-8e6a-2b4c6d8e0f13';
const KINDS: DeviceTopicKind[] = ['status', 'heartbeat', 'signal/in', 'signal/out', 'audit'];

/** MQTT topic matching as Mosquitto does it (`#`/`+` never match a leading `$`). */
function matches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && !filter.startsWith('$')) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

/** Mosquitto 2.0's check within one role: highest priority first, first match decides. */
function allowed(acls: DynsecAcl[], type: DynsecAcl['acltype'], topic: string): boolean {
  if (type === 'subscribeLiteral') {
    const literal = acls.find((a) => a.acltype === 'subscribeLiteral' && a.topic === topic);
    if (literal) return literal.allow;
    type = 'subscribePattern';
  }
  const hit = acls
    .filter((a) => a.acltype === type)
    .sort((a, b) => b.priority - a.priority)
    .find((a) => matches(a.topic, topic));
  return hit?.allow ?? false; // broker default: deny (the role denies `#` itself anyway)
}

describe('deviceAcls', () => {
  const acls = deviceAcls(D);
  const who = { kind: 'device' as const, deviceId: D };
  const topics = [
    ...KINDS.flatMap((k) => [deviceTopic(D, k), deviceTopic(E, k)]),
    `pf/v1/dev/${D}/other`,
    'pf/v1/dev/+/signal/in',
    `pf/v1/dev/${D}/#`,
    '#',
    '$CONTROL/dynamic-security/v1',
    '$SYS/broker/clients',
  ];

  it('allows publishing exactly where the embedded broker does (topics.ts)', () => {
    for (const topic of topics.filter((t) => !t.includes('+') && !t.includes('#'))) {
      expect(allowed(acls, 'publishClientSend', topic), topic).toBe(canPublish(who, topic));
    }
  });

  it('allows subscribing exactly where the embedded broker does, and receiving only that', () => {
    for (const filter of topics) {
      expect(allowed(acls, 'subscribeLiteral', filter), filter).toBe(canSubscribe(who, filter));
    }
    for (const topic of topics.filter((t) => !t.includes('+') && !t.includes('#'))) {
      expect(allowed(acls, 'publishClientReceive', topic), topic).toBe(
        topic === deviceTopic(D, 'signal/in'),
      );
    }
  });

  it('denies everything else in the role itself, $ topics included', () => {
    for (const acltype of ['publishClientSend', 'publishClientReceive', 'subscribePattern']) {
      for (const topic of ['#', '$CONTROL/#', '$SYS/#']) {
        expect(acls).toContainEqual({ acltype, topic, allow: false, priority: 0 });
      }
    }
  });
});

describe('aclFixes', () => {
  it('removes what is not wanted, adds what is missing, replaces what differs', () => {
    const wanted: DynsecAcl[] = [
      { acltype: 'publishClientSend', topic: 'a', allow: true, priority: 10 },
      { acltype: 'subscribeLiteral', topic: 'b', allow: true, priority: 10 },
    ];
    expect(aclFixes('r', wanted, wanted)).toEqual([]);
    expect(
      aclFixes(
        'r',
        [
          { acltype: 'publishClientSend', topic: 'a', allow: false, priority: 10 },
          { acltype: 'publishClientSend', topic: 'x', allow: true, priority: 0 },
        ],
        wanted,
      ),
    ).toEqual([
      { command: 'removeRoleACL', rolename: 'r', acltype: 'publishClientSend', topic: 'a' },
      { command: 'removeRoleACL', rolename: 'r', acltype: 'publishClientSend', topic: 'x' },
      { command: 'addRoleACL', rolename: 'r', ...wanted[0] },
      { command: 'addRoleACL', rolename: 'r', ...wanted[1] },
    ]);
  });
});

/** An mqtt.js stand-in: records publishes; the test answers like the plugin. */
function fakeBroker(
  opts: { connected?: boolean; failPublish?: boolean; refuseSubscribe?: boolean } = {},
) {
  const events = new EventEmitter();
  const sent: Array<{ commands: Array<Record<string, unknown>> }> = [];
  const transport = {
    connected: opts.connected ?? true,
    on: (event: string, listener: (...args: unknown[]) => void) => events.on(event, listener),
    removeListener: (event: string, listener: (...args: unknown[]) => void) =>
      events.removeListener(event, listener),
    subscribeAsync: () =>
      opts.refuseSubscribe
        ? Promise.reject(new Error('Subscribe error: Unspecified error'))
        : Promise.resolve([]),
    publishAsync: (topic: string, payload: string) => {
      expect(topic).toBe(DYNSEC_TOPIC);
      if (opts.failPublish) return Promise.reject(new Error('connection closed'));
      sent.push(JSON.parse(payload) as { commands: Array<Record<string, unknown>> });
      return Promise.resolve(undefined);
    },
  } as unknown as DynsecTransport;
  const answer = (responses: unknown[]) =>
    events.emit('message', DYNSEC_RESPONSE_TOPIC, Buffer.from(JSON.stringify({ responses })));
  return { transport, sent, answer };
}

async function flush(): Promise<void> {
  await new Promise((r) => setImmediate(r));
}

describe('DynsecClient', () => {
  it('matches answers by correlationData, in command order, whatever their order', async () => {
    const broker = fakeBroker();
    const client = new DynsecClient(broker.transport, 1000);
    await client.attach();
    const pending = client.send([{ command: 'getClient' }, { command: 'getRole' }]);
    await flush();
    const [first, second] = broker.sent[0]!.commands;
    broker.answer([{ command: 'other', correlationData: 'not-ours' }]);
    broker.answer([
      { command: 'getRole', data: { n: 2 }, correlationData: second!['correlationData'] },
    ]);
    broker.answer([
      {
        command: 'getClient',
        error: 'Client not found',
        correlationData: first!['correlationData'],
      },
    ]);
    await expect(pending).resolves.toEqual([
      { command: 'getClient', error: 'Client not found', data: undefined },
      { command: 'getRole', error: undefined, data: { n: 2 } },
    ]);
    client.detach();
  });

  it('times out with a coded error naming the commands', async () => {
    const client = new DynsecClient(fakeBroker().transport, 20);
    await client.attach();
    const error = await client.send([{ command: 'createClient' }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DynsecError);
    expect(error).toMatchObject({ code: 'TIMEOUT' });
    expect((error as Error).message).toMatch(/within 20 ms \(createClient\)/);
  });

  it('fails at once when not connected, or when the publish fails', async () => {
    const offline = new DynsecClient(fakeBroker({ connected: false }).transport, 1000);
    await expect(offline.send([{ command: 'x' }])).rejects.toMatchObject({
      code: 'BROKER_UNAVAILABLE',
    });
    const failing = new DynsecClient(fakeBroker({ failPublish: true }).transport, 60_000);
    await expect(failing.send([{ command: 'x' }])).rejects.toMatchObject({
      code: 'BROKER_UNAVAILABLE',
    });
  });

  it('reports a refused subscription to the answers as NOT_ADMIN', async () => {
    const broker = fakeBroker({ refuseSubscribe: true });
    await expect(new DynsecClient(broker.transport, 1000).attach()).rejects.toMatchObject({
      code: 'NOT_ADMIN',
    });
  });
});
