// Mosquitto's Dynamic Security plugin, spoken over the registrar's own MQTT connection
// (MQTT_PROVISIONING=dynsec). Commands are JSON published to $CONTROL/dynamic-security/v1;
// the plugin answers on …/v1/response, to the requesting client only, one response per
// command, matched here by `correlationData`.
//
// Each enrolled device gets a broker account: a client `<deviceId>` with the minted
// password, bound to the client id `pf-agent-<deviceId>` (no device can take over another's
// session), holding one role `pf-device-<deviceId>` whose ACLs are exactly the device's
// topics of topics.ts and deny everything else. Command names, error strings and formats
// as Mosquitto 2.0.11 answers them (test/mosquitto-dynsec.spec.ts runs against it).
import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { z } from 'zod';
import {
  agentClientId,
  DEVICE_PUBLISH_KINDS,
  deviceTopic,
  REGISTRAR_SUBSCRIPTIONS,
  TOPIC_PREFIX,
} from './topics.js';

export const DYNSEC_TOPIC = '$CONTROL/dynamic-security/v1';
export const DYNSEC_RESPONSE_TOPIC = `${DYNSEC_TOPIC}/response`;

export const DynsecErrorCode = {
  /** The registrar's MQTT client is not connected to the broker. */
  BROKER_UNAVAILABLE: 'BROKER_UNAVAILABLE',
  /** No answer in time: plugin not loaded, or the account may not publish to $CONTROL. */
  TIMEOUT: 'TIMEOUT',
  /** The account may not subscribe to the plugin's answers: not a dynsec admin. */
  NOT_ADMIN: 'NOT_ADMIN',
  /** The plugin refused a command. */
  COMMAND_FAILED: 'COMMAND_FAILED',
} as const;
export type DynsecErrorCode = (typeof DynsecErrorCode)[keyof typeof DynsecErrorCode];

export class DynsecError extends Error {
  override readonly name = 'DynsecError';
  constructor(
    readonly code: DynsecErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type AclType =
  | 'publishClientSend'
  | 'publishClientReceive'
  | 'subscribeLiteral'
  | 'subscribePattern'
  | 'unsubscribeLiteral'
  | 'unsubscribePattern';

/** One ACL of a role. Within a role, higher priority is checked first; first match wins. */
export interface DynsecAcl {
  acltype: AclType;
  topic: string;
  allow: boolean;
  priority: number;
}

export interface DynsecCommand {
  command: string;
  [field: string]: unknown;
}

export interface DynsecResponse {
  command: string;
  error?: string | undefined;
  data?: unknown;
}

// Error strings of Mosquitto 2.0's plugin that provisioning tolerates.
const CLIENT_EXISTS = 'Client already exists';
const ROLE_EXISTS = 'Role already exists';
const CLIENT_NOT_FOUND = 'Client not found';
const ROLE_NOT_FOUND = 'Role not found';

const ALLOW_PRIORITY = 10;
const DENY_PRIORITY = 0;

export const REGISTRAR_ROLE = 'pf-registrar';
const DEVICE_ROLE_PREFIX = 'pf-device-';
const DEVICE_TEXTNAME = 'peerfetch device';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function deviceRoleName(deviceId: string): string {
  return `${DEVICE_ROLE_PREFIX}${deviceId}`;
}

/**
 * What device D may do, mirroring canPublish/canSubscribe of topics.ts: publish on its
 * status, heartbeat, signal/out and audit topics; subscribe to exactly its signal/in filter
 * (a literal: no wildcard) and receive only that. Everything else is denied by the role
 * itself, whatever the broker's default ACL access is (`#` does not match `$` topics: those
 * are denied separately).
 */
export function deviceAcls(deviceId: string): DynsecAcl[] {
  const signalIn = deviceTopic(deviceId, 'signal/in');
  const allow = (acltype: AclType, topic: string): DynsecAcl => ({
    acltype,
    topic,
    allow: true,
    priority: ALLOW_PRIORITY,
  });
  const denied: DynsecAcl[] = [];
  for (const acltype of [
    'publishClientSend',
    'publishClientReceive',
    'subscribePattern',
  ] as const) {
    for (const topic of ['#', '$CONTROL/#', '$SYS/#']) {
      denied.push({ acltype, topic, allow: false, priority: DENY_PRIORITY });
    }
  }
  return [
    ...DEVICE_PUBLISH_KINDS.map((kind) => allow('publishClientSend', deviceTopic(deviceId, kind))),
    allow('subscribeLiteral', signalIn),
    allow('publishClientReceive', signalIn),
    ...denied,
  ];
}

/**
 * What the registrar needs besides the dynsec admin role: hear every device's published
 * topics, publish to every device's signal/in, and publish a device's retained status when
 * the presence timeout marks it offline (role `pf-registrar`, kept up to date at each start).
 */
export function registrarAcls(): DynsecAcl[] {
  return [
    ...(['signal/in', 'status'] as const).map((kind): DynsecAcl => ({
      acltype: 'publishClientSend',
      topic: `${TOPIC_PREFIX}+/${kind}`,
      allow: true,
      priority: ALLOW_PRIORITY,
    })),
    ...REGISTRAR_SUBSCRIPTIONS.flatMap((topic): DynsecAcl[] => [
      { acltype: 'subscribePattern', topic, allow: true, priority: ALLOW_PRIORITY },
      { acltype: 'publishClientReceive', topic, allow: true, priority: ALLOW_PRIORITY },
    ]),
  ];
}

const responsesSchema = z.object({
  responses: z.array(
    z.object({
      command: z.string(),
      error: z.string().optional(),
      data: z.unknown().optional(),
      correlationData: z.string().optional(),
    }),
  ),
});

const roleSchema = z.object({
  role: z.object({
    acls: z
      .array(
        z.object({
          acltype: z.string(),
          topic: z.string(),
          allow: z.boolean(),
          priority: z.number().int().default(0),
        }),
      )
      .default([]),
  }),
});

const clientSchema = z.object({
  client: z.object({ roles: z.array(z.object({ rolename: z.string() })).default([]) }),
});

const clientListSchema = z.object({
  totalCount: z.number().int(),
  clients: z.array(
    z.object({ username: z.string(), textdescription: z.string().optional() }).loose(),
  ),
});

const roleListSchema = z.object({
  totalCount: z.number().int(),
  roles: z.array(
    z.object({ rolename: z.string(), textdescription: z.string().optional() }).loose(),
  ),
});

/** The part of an mqtt.js client this module uses. */
export type DynsecTransport = Pick<
  MqttClient,
  'connected' | 'on' | 'removeListener' | 'publishAsync' | 'subscribeAsync'
>;

interface Batch {
  ids: string[];
  results: Map<string, DynsecResponse>;
  resolve(responses: DynsecResponse[]): void;
  reject(error: DynsecError): void;
  timer: NodeJS.Timeout;
}

/** Request/response over the control topic: commands out, correlated answers back. */
export class DynsecClient {
  private readonly batches = new Map<string, Batch>();
  private readonly listener = (topic: string, payload: Buffer): void => {
    if (topic === DYNSEC_RESPONSE_TOPIC) this.onResponse(payload);
  };

  constructor(
    private readonly mqtt: DynsecTransport,
    readonly timeoutMs: number,
  ) {}

  /** Subscribes to the answers; refused (SUBACK failure) unless the account is an admin. */
  async attach(): Promise<void> {
    this.mqtt.on('message', this.listener);
    try {
      await this.mqtt.subscribeAsync(DYNSEC_RESPONSE_TOPIC, { qos: 1 });
    } catch (error) {
      this.detach();
      throw new DynsecError(
        DynsecErrorCode.NOT_ADMIN,
        `the broker refused the registrar's subscription to ${DYNSEC_RESPONSE_TOPIC} ` +
          `(${(error as Error).message}): MQTT_USERNAME must be a dynamic-security admin`,
      );
    }
  }

  detach(): void {
    this.mqtt.removeListener('message', this.listener);
    for (const batch of new Set(this.batches.values())) {
      this.settle(batch);
      batch.reject(new DynsecError(DynsecErrorCode.BROKER_UNAVAILABLE, 'MQTT client closed'));
    }
  }

  /** Sends the commands in one message; resolves with one response per command, in order. */
  async send(
    commands: DynsecCommand[],
    deadline = Date.now() + this.timeoutMs,
  ): Promise<DynsecResponse[]> {
    if (commands.length === 0) return [];
    if (!this.mqtt.connected) {
      throw new DynsecError(
        DynsecErrorCode.BROKER_UNAVAILABLE,
        'the registrar is not connected to the MQTT broker',
      );
    }
    const ids = commands.map(() => randomUUID());
    const names = [...new Set(commands.map((c) => c.command))].join(', ');
    const wait = Math.max(0, deadline - Date.now());
    let resolve: (responses: DynsecResponse[]) => void = () => undefined;
    let reject: (error: DynsecError) => void = () => undefined;
    const answered = new Promise<DynsecResponse[]>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    answered.catch(() => undefined); // returned below; never an unhandled rejection
    const batch: Batch = {
      ids,
      results: new Map(),
      resolve,
      reject,
      timer: setTimeout(() => {
        this.settle(batch);
        reject(
          new DynsecError(
            DynsecErrorCode.TIMEOUT,
            `no answer from Mosquitto's dynamic-security plugin within ${wait} ms (${names}): ` +
              `is the plugin loaded, and may MQTT_USERNAME publish to ${DYNSEC_TOPIC}?`,
          ),
        );
      }, wait),
    };
    for (const id of ids) this.batches.set(id, batch);
    const payload = JSON.stringify({
      commands: commands.map((c, i) => ({ ...c, correlationData: ids[i] })),
    });
    // Not awaited: a broker that stops answering holds back its PUBACK too; the deadline
    // decides. A failed publish settles the batch at once (later settlements are no-ops).
    this.mqtt.publishAsync(DYNSEC_TOPIC, payload, { qos: 1 }).catch((error: unknown) => {
      this.settle(batch);
      reject(
        new DynsecError(
          DynsecErrorCode.BROKER_UNAVAILABLE,
          `publishing to ${DYNSEC_TOPIC} failed: ${(error as Error).message}`,
        ),
      );
    });
    return answered;
  }

  /**
   * Sends commands without waiting for answers (QoS 0: never resent after a reconnection),
   * for changes after which Mosquitto disconnects this very client.
   */
  async fire(commands: DynsecCommand[]): Promise<void> {
    if (!this.mqtt.connected) {
      throw new DynsecError(
        DynsecErrorCode.BROKER_UNAVAILABLE,
        'the registrar is not connected to the MQTT broker',
      );
    }
    try {
      await this.mqtt.publishAsync(DYNSEC_TOPIC, JSON.stringify({ commands }), { qos: 0 });
    } catch (error) {
      throw new DynsecError(
        DynsecErrorCode.BROKER_UNAVAILABLE,
        `publishing to ${DYNSEC_TOPIC} failed: ${(error as Error).message}`,
      );
    }
  }

  private settle(batch: Batch): void {
    clearTimeout(batch.timer);
    for (const id of batch.ids) this.batches.delete(id);
  }

  private onResponse(payload: Buffer): void {
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      return;
    }
    const parsed = responsesSchema.safeParse(json);
    if (!parsed.success) return;
    for (const r of parsed.data.responses) {
      const batch = r.correlationData ? this.batches.get(r.correlationData) : undefined;
      if (!batch || !r.correlationData) continue;
      batch.results.set(r.correlationData, { command: r.command, error: r.error, data: r.data });
      if (batch.results.size === batch.ids.length) {
        this.settle(batch);
        batch.resolve(batch.ids.map((id) => batch.results.get(id) as DynsecResponse));
      }
    }
  }
}

function expectOk(response: DynsecResponse | undefined, ...tolerated: string[]): void {
  if (!response) {
    throw new DynsecError(DynsecErrorCode.COMMAND_FAILED, 'missing dynamic-security response');
  }
  if (response.error !== undefined && !tolerated.includes(response.error)) {
    throw new DynsecError(
      DynsecErrorCode.COMMAND_FAILED,
      `dynamic-security ${response.command} failed: ${response.error}`,
    );
  }
}

const aclKey = (a: { acltype: string; topic: string }): string => `${a.acltype} ${a.topic}`;

type CurrentAcl = z.output<typeof roleSchema>['role']['acls'][number];

/** The commands that turn a role's `current` ACLs into exactly `wanted`. */
export function aclFixes(
  rolename: string,
  current: readonly CurrentAcl[],
  wanted: readonly DynsecAcl[],
): DynsecCommand[] {
  const wantedByKey = new Map(wanted.map((a) => [aclKey(a), a]));
  const currentByKey = new Map(current.map((a) => [aclKey(a), a]));
  const same = (a: DynsecAcl | undefined, b: CurrentAcl | undefined): boolean =>
    a !== undefined && b !== undefined && a.allow === b.allow && a.priority === b.priority;
  const commands: DynsecCommand[] = [];
  for (const a of current) {
    if (!same(wantedByKey.get(aclKey(a)), a)) {
      commands.push({ command: 'removeRoleACL', rolename, acltype: a.acltype, topic: a.topic });
    }
  }
  for (const a of wanted) {
    if (!same(a, currentByKey.get(aclKey(a))))
      commands.push({ command: 'addRoleACL', rolename, ...a });
  }
  return commands;
}

/** A device account found on the broker; `provisionedAt` from its description. */
export interface DeviceAccount {
  deviceId: string;
  provisionedAt: Date | null;
}

const DESCRIPTION = /provisioned (\d{4}-\d{2}-\d{2}T[\d:.]+Z)/;

function provisionedAt(description: string | undefined): Date | null {
  const m = description ? DESCRIPTION.exec(description) : null;
  const at = m?.[1] ? new Date(m[1]) : null;
  return at && !Number.isNaN(at.getTime()) ? at : null;
}

/** Device accounts on the broker: created, reset (idempotent), deleted, listed. */
export class DynsecProvisioner {
  constructor(
    private readonly client: DynsecClient,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Creates (or resets, when it already exists) device D's role and client with this
   * password. Resolves when the broker confirmed every change; one deadline for all.
   */
  async provisionDevice(deviceId: string, password: string): Promise<void> {
    const deadline = Date.now() + this.client.timeoutMs;
    const rolename = deviceRoleName(deviceId);
    const acls = deviceAcls(deviceId);
    const textdescription = `peerfetch device ${deviceId}, provisioned ${this.now().toISOString()}`;
    const client = {
      username: deviceId,
      password,
      clientid: agentClientId(deviceId),
      textname: DEVICE_TEXTNAME,
      textdescription,
      roles: [{ rolename }],
    };
    const [role, created] = await this.client.send(
      [
        { command: 'createRole', rolename, textname: DEVICE_TEXTNAME, textdescription, acls },
        { command: 'createClient', ...client },
      ],
      deadline,
    );
    if (role?.error === ROLE_EXISTS) {
      await this.setRoleAcls(rolename, acls, deadline, [
        { command: 'modifyRole', rolename, textdescription },
      ]);
    } else {
      expectOk(role);
    }
    if (created?.error === CLIENT_EXISTS) {
      // A retried enrollment: the same account with the new password, this role alone, no
      // groups, enabled.
      const responses = await this.client.send(
        [
          { command: 'modifyClient', ...client, groups: [] },
          { command: 'enableClient', username: deviceId },
        ],
        deadline,
      );
      for (const r of responses) expectOk(r);
    } else {
      expectOk(created);
    }
  }

  /** Deletes device D's client (Mosquitto disconnects it) and role; absent is fine. */
  async removeDevice(deviceId: string): Promise<void> {
    const [client, role] = await this.client.send([
      { command: 'deleteClient', username: deviceId },
      { command: 'deleteRole', rolename: deviceRoleName(deviceId) },
    ]);
    expectOk(client, CLIENT_NOT_FOUND);
    expectOk(role, ROLE_NOT_FOUND);
  }

  /**
   * Gives the registrar's own account the `pf-registrar` role (device topics), creating or
   * correcting the role first. Fails if the account is not a dynsec client or no admin.
   *
   * Mosquitto 2.0 disconnects every client whose roles, or whose roles' ACLs, change — this
   * connection included, before it answers. Such changes are sent without waiting for an
   * answer; `settled` (armed before they are sent) resolves once the connection is back,
   * and the result is read back and checked. Nothing changes (no disconnection) when the
   * account already holds the role with the right ACLs: every start after the first.
   */
  async ensureRegistrarAccess(username: string, settled: () => Promise<void>): Promise<void> {
    const acls = registrarAcls();
    const before = await this.readRegistrarAccess(username);
    const ownChanges: DynsecCommand[] = [];
    if (before.acls === null) {
      const [created] = await this.client.send([
        {
          command: 'createRole',
          rolename: REGISTRAR_ROLE,
          textname: 'peerfetch registrar',
          textdescription: 'managed by the peerfetch registrar: device topics',
          acls,
        },
      ]);
      expectOk(created);
    } else {
      const fixes = aclFixes(REGISTRAR_ROLE, before.acls, acls);
      if (before.holdsRole) ownChanges.push(...fixes);
      else for (const r of await this.client.send(fixes)) expectOk(r);
    }
    if (!before.holdsRole) {
      ownChanges.push({ command: 'addClientRole', username, rolename: REGISTRAR_ROLE });
    }
    if (ownChanges.length === 0) return;
    const back = settled();
    await this.client.fire(ownChanges);
    await back;
    const after = await this.readRegistrarAccess(username);
    if (!after.holdsRole || !after.acls || aclFixes(REGISTRAR_ROLE, after.acls, acls).length > 0) {
      throw new DynsecError(
        DynsecErrorCode.COMMAND_FAILED,
        `could not give MQTT_USERNAME "${username}" the ${REGISTRAR_ROLE} role with its ACLs`,
      );
    }
  }

  private async readRegistrarAccess(
    username: string,
  ): Promise<{ holdsRole: boolean; acls: CurrentAcl[] | null }> {
    const [self, role] = await this.client.send([
      { command: 'getClient', username },
      { command: 'getRole', rolename: REGISTRAR_ROLE },
    ]);
    if (self?.error === CLIENT_NOT_FOUND) {
      throw new DynsecError(
        DynsecErrorCode.COMMAND_FAILED,
        `MQTT_USERNAME "${username}" is not a dynamic-security client of this broker`,
      );
    }
    expectOk(self);
    expectOk(role, ROLE_NOT_FOUND);
    const roles = clientSchema.parse(self?.data).client.roles;
    return {
      holdsRole: roles.some((r) => r.rolename === REGISTRAR_ROLE),
      acls: role?.error === ROLE_NOT_FOUND ? null : roleSchema.parse(role?.data).role.acls,
    };
  }

  /** Every device account (client or role named after a device id) on the broker. */
  async listDeviceAccounts(): Promise<DeviceAccount[]> {
    const accounts = new Map<string, Date | null>();
    const note = (deviceId: string, at: Date | null): void => {
      const seen = accounts.get(deviceId);
      // the later date of client and role: never older than the last provisioning
      if (seen === undefined || (at && (!seen || at > seen))) accounts.set(deviceId, at);
    };
    const page = 500;
    for (let offset = 0; ; offset += page) {
      const [r] = await this.client.send([
        { command: 'listClients', verbose: true, count: page, offset },
      ]);
      expectOk(r);
      const list = clientListSchema.parse(r?.data);
      for (const c of list.clients) {
        if (UUID.test(c.username)) note(c.username, provisionedAt(c.textdescription));
      }
      if (list.clients.length === 0 || offset + page >= list.totalCount) break;
    }
    for (let offset = 0; ; offset += page) {
      const [r] = await this.client.send([
        { command: 'listRoles', verbose: true, count: page, offset },
      ]);
      expectOk(r);
      const list = roleListSchema.parse(r?.data);
      for (const role of list.roles) {
        const id = role.rolename.slice(DEVICE_ROLE_PREFIX.length);
        if (role.rolename.startsWith(DEVICE_ROLE_PREFIX) && UUID.test(id)) {
          note(id, provisionedAt(role.textdescription));
        }
      }
      if (list.roles.length === 0 || offset + page >= list.totalCount) break;
    }
    return [...accounts].map(([deviceId, at]) => ({ deviceId, provisionedAt: at }));
  }

  /** Makes a role's ACLs exactly `wanted` (removes the others, adds the missing). */
  private async setRoleAcls(
    rolename: string,
    wanted: DynsecAcl[],
    deadline: number,
    extra: DynsecCommand[] = [],
  ): Promise<void> {
    const [got] = await this.client.send([{ command: 'getRole', rolename }], deadline);
    expectOk(got);
    const current = roleSchema.parse(got?.data).role.acls;
    const commands = [...extra, ...aclFixes(rolename, current, wanted)];
    for (const r of await this.client.send(commands, deadline)) expectOk(r);
  }
}
