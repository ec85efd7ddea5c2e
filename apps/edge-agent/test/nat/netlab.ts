// A small Internet on this machine: Linux network namespaces, veth pairs and iptables-nft.
//
//   device ──lan── rdev (NAT) ──wan──┐
//                                    ├── pub: bridge 203.0.113.0/24, coturn (STUN/TURN)
//   console ─lan── rcon (NAT) ──wan──┘
//
// Every namespace is named `pf-<random>-<role>` and created here; every veth is created
// directly inside its namespaces (never in the root namespace); no route or rule is ever
// added outside them. `destroy()` kills the processes started here (by pid) and deletes the
// namespaces (which deletes their veths). It runs from `finally`/afterAll and, as a last
// resort, on process exit and SIGINT/SIGTERM.
//
// NAT behaviour (RFC 4787 terms), both with "no inbound connections" filtering (FORWARD and
// INPUT policy DROP; only ESTABLISHED,RELATED comes back in):
// - 'eim'  : MASQUERADE keeps the source port when free → endpoint-independent mapping
//            (the srflx address learnt from STUN is the one every peer sees).
// - 'symmetric': MASQUERADE --random-fully → a new random port per destination
//            (endpoint-dependent mapping): srflx candidates are useless, only TURN works.
// - 'udp-blocked': EIM for TCP, every UDP packet from the LAN dropped.
// Unsolicited inbound packets are dropped in filter INPUT/FORWARD *before* their conntrack
// entry is confirmed, so an early ICE check from the peer cannot take the port a later
// outbound flow wants (which would turn an EIM NAT into a port-changing one).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type NatKind = 'eim' | 'symmetric' | 'udp-blocked';

export interface LabOptions {
  deviceNat: NatKind;
  consoleNat: NatKind;
}

export const PUBLIC_NET = '203.0.113';
export const ADDR = {
  pub: `${PUBLIC_NET}.1`,
  rdevWan: `${PUBLIC_NET}.10`,
  rconWan: `${PUBLIC_NET}.20`,
  // RFC 5737 documentation ranges: they exist only inside the lab's namespaces
  rdevLan: '198.51.100.1',
  device: '198.51.100.2',
  rconLan: '192.0.2.129',
  console: '192.0.2.130',
} as const;

/** Next hop of `pub`'s default route: nobody is there (RFC 2544 benchmarking range). */
const VOID_GW = '198.18.0.1';

export const NS_PREFIX_RE = /^pf-[0-9a-f]{8}-/;

/** `ip netns add` is possible here (root, or a capable user namespace)? */
export function namespacesAvailable(): { ok: true } | { ok: false; reason: string } {
  const probe = `pf-${randomBytes(4).toString('hex')}-probe`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
  } catch (err) {
    return { ok: false, reason: String((err as { stderr?: Buffer }).stderr ?? err).trim() };
  }
  execFileSync('ip', ['netns', 'del', probe], { stdio: 'pipe' });
  for (const tool of ['iptables', 'turnserver', 'sysctl', 'ss']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'pipe' });
    } catch {
      return { ok: false, reason: `${tool} is not installed` };
    }
  }
  return { ok: true };
}

/** Names of existing namespaces (`ip netns list`). */
export function listNamespaces(): string[] {
  const out = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.length > 0);
}

const live = new Set<NetLab>();
let hooksInstalled = false;
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const lab of live) lab.destroySync();
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const lab of live) lab.destroySync();
      process.kill(process.pid, sig);
    });
  }
}

export interface TurnServer {
  secret: string;
  realm: string;
  port: number;
  logFile: string;
  /** coturn's log so far. */
  log(): string;
}

export class NetLab {
  readonly id = randomBytes(4).toString('hex');
  readonly prefix = `pf-${this.id}-`;
  readonly ns = {
    pub: `${this.prefix}pub`,
    rdev: `${this.prefix}rdev`,
    device: `${this.prefix}dev`,
    rcon: `${this.prefix}rcon`,
    console: `${this.prefix}con`,
  };
  readonly dir = mkdtempSync(join(tmpdir(), 'pf-netlab-'));
  private readonly created: string[] = [];
  private readonly procs = new Set<ChildProcess>();
  private destroyed = false;
  turn: TurnServer | undefined;

  private constructor(readonly options: LabOptions) {}

  /** Builds the topology; on any failure removes what it made and rethrows. */
  static create(options: LabOptions): NetLab {
    installExitHooks();
    const lab = new NetLab(options);
    live.add(lab);
    try {
      lab.build();
    } catch (err) {
      lab.destroySync();
      throw err;
    }
    return lab;
  }

  /** Runs `cmd` inside namespace `ns` (synchronously); returns stdout. */
  exec(ns: string, cmd: string, args: string[]): string {
    try {
      return execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      const e = err as { stderr?: string };
      throw new Error(`[${ns}] ${cmd} ${args.join(' ')}: ${e.stderr?.trim() ?? String(err)}`, {
        cause: err,
      });
    }
  }

  /** Spawns a long-running process inside `ns`; it is killed by destroy(). */
  spawn(ns: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env,
    });
    this.procs.add(child);
    child.once('exit', () => this.procs.delete(child));
    return child;
  }

  private addNs(name: string): void {
    execFileSync('ip', ['netns', 'add', name], { stdio: 'pipe' });
    this.created.push(name);
    this.exec(name, 'ip', ['link', 'set', 'lo', 'up']);
    // IPv4 only: no link-local IPv6 candidates, nothing but what the test builds
    this.exec(name, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
    this.exec(name, 'sysctl', ['-qw', 'net.ipv6.conf.default.disable_ipv6=1']);
  }

  /** A veth pair created with each end already inside its namespace. */
  private veth(nsA: string, ifA: string, nsB: string, ifB: string): void {
    // prettier-ignore
    execFileSync('ip', ['link', 'add', ifA, 'netns', nsA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB], { stdio: 'pipe' });
  }

  private build(): void {
    const { ns } = this;
    for (const n of Object.values(ns)) this.addNs(n);
    // public segment: a bridge in `pub` with the TURN server's address
    this.exec(ns.pub, 'ip', ['link', 'add', 'br0', 'type', 'bridge']);
    this.exec(ns.pub, 'ip', ['addr', 'add', `${ADDR.pub}/24`, 'dev', 'br0']);
    this.exec(ns.pub, 'ip', ['link', 'set', 'br0', 'up']);
    // "The rest of the Internet": a default route to a gateway that never answers (a veth
    // pair inside `pub`, a permanent neighbour entry with a MAC nobody has), where packets
    // vanish silently, as they do for unroutable addresses out there. Without it coturn's
    // relay socket gets ENETUNREACH when a client asks it to send an ICE check to a peer's
    // private host candidate, and coturn then drops the whole allocation.
    this.veth(ns.pub, 'inet0', ns.pub, 'inet1');
    this.exec(ns.pub, 'ip', ['link', 'set', 'inet0', 'up']);
    this.exec(ns.pub, 'ip', ['link', 'set', 'inet1', 'up']);
    // prettier-ignore
    this.exec(ns.pub, 'ip', ['neigh', 'add', VOID_GW, 'lladdr', '02:00:00:00:00:01', 'dev', 'inet0', 'nud', 'permanent']);
    this.exec(ns.pub, 'ip', ['route', 'add', 'default', 'via', VOID_GW, 'dev', 'inet0', 'onlink']);
    this.router(
      ns.rdev,
      'pdev',
      ADDR.rdevWan,
      ADDR.rdevLan,
      25,
      ns.device,
      ADDR.device,
      this.options.deviceNat,
    );
    this.router(
      ns.rcon,
      'pcon',
      ADDR.rconWan,
      ADDR.rconLan,
      25,
      ns.console,
      ADDR.console,
      this.options.consoleNat,
    );
  }

  private router(
    r: string,
    bridgePort: string,
    wan: string,
    lanGw: string,
    lanBits: number,
    host: string,
    hostAddr: string,
    nat: NatKind,
  ): void {
    const { pub } = this.ns;
    this.veth(r, 'wan0', pub, bridgePort);
    this.exec(pub, 'ip', ['link', 'set', bridgePort, 'master', 'br0']);
    this.exec(pub, 'ip', ['link', 'set', bridgePort, 'up']);
    this.exec(r, 'ip', ['addr', 'add', `${wan}/24`, 'dev', 'wan0']);
    this.exec(r, 'ip', ['link', 'set', 'wan0', 'up']);
    this.exec(r, 'ip', ['route', 'add', 'default', 'via', ADDR.pub]);
    this.veth(r, 'lan0', host, 'eth0');
    this.exec(r, 'ip', ['addr', 'add', `${lanGw}/${lanBits}`, 'dev', 'lan0']);
    this.exec(r, 'ip', ['link', 'set', 'lan0', 'up']);
    this.exec(host, 'ip', ['addr', 'add', `${hostAddr}/${lanBits}`, 'dev', 'eth0']);
    this.exec(host, 'ip', ['link', 'set', 'eth0', 'up']);
    this.exec(host, 'ip', ['route', 'add', 'default', 'via', lanGw]);
    this.exec(r, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    const ipt = (...args: string[]) => this.exec(r, 'iptables', ['-w', ...args]);
    // no inbound connections: only replies to what the LAN started come back
    ipt('-P', 'INPUT', 'DROP');
    ipt('-A', 'INPUT', '-i', 'lo', '-j', 'ACCEPT');
    ipt('-A', 'INPUT', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT');
    ipt('-P', 'FORWARD', 'DROP');
    if (nat === 'udp-blocked') {
      ipt('-A', 'FORWARD', '-i', 'lan0', '-p', 'udp', '-j', 'DROP');
    }
    ipt('-A', 'FORWARD', '-i', 'lan0', '-o', 'wan0', '-j', 'ACCEPT');
    // prettier-ignore
    ipt('-A', 'FORWARD', '-i', 'wan0', '-o', 'lan0', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT');
    ipt(
      '-t',
      'nat',
      '-A',
      'POSTROUTING',
      '-o',
      'wan0',
      '-j',
      'MASQUERADE',
      ...(nat === 'symmetric' ? ['--random-fully'] : []),
    );
  }

  /**
   * The ISP gives a router another WAN address (mid-session): the old one goes, MASQUERADE
   * forgets its mappings (conntrack entries of the old address are dropped), the default
   * route comes back via the new one.
   */
  changeWanAddress(router: 'rdev' | 'rcon', from: string, to: string): void {
    const ns = this.ns[router];
    // (deleting a primary address deletes the secondaries of its subnet: old one first)
    this.exec(ns, 'ip', ['addr', 'del', `${from}/24`, 'dev', 'wan0']);
    this.exec(ns, 'ip', ['addr', 'add', `${to}/24`, 'dev', 'wan0']);
    this.exec(ns, 'ip', ['route', 'replace', 'default', 'via', ADDR.pub]);
  }

  /** `iptables -S` (filter) and `-t nat -S` of a router, for assertions and the docs. */
  rules(router: 'rdev' | 'rcon'): { filter: string[]; nat: string[] } {
    const ns = this.ns[router];
    const lines = (out: string) => out.split('\n').filter((l) => l.length > 0);
    return {
      filter: lines(this.exec(ns, 'iptables', ['-w', '-S'])),
      nat: lines(this.exec(ns, 'iptables', ['-w', '-t', 'nat', '-S'])),
    };
  }

  /** Starts coturn in `pub` (STUN + TURN over UDP and TCP on 3478, REST-API secret). */
  async startTurn(): Promise<TurnServer> {
    const secret = randomBytes(24).toString('base64url');
    const realm = 'peerfetch.test';
    const logFile = join(this.dir, 'turn.log');
    const conf = join(this.dir, 'turnserver.conf');
    // the secret goes in a 0600 file, not on a command line other users can read
    writeFileSync(
      conf,
      [
        `listening-ip=${ADDR.pub}`,
        `relay-ip=${ADDR.pub}`,
        'listening-port=3478',
        'min-port=49152',
        'max-port=49407',
        'use-auth-secret',
        `static-auth-secret=${secret}`,
        `realm=${realm}`,
        'fingerprint',
        'no-tls',
        'no-dtls',
        'no-cli',
        'no-multicast-peers',
        'simple-log',
        `log-file=${logFile}`,
        `pidfile=${join(this.dir, 'turnserver.pid')}`,
        `userdb=${join(this.dir, 'turndb')}`,
        'verbose',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const child = this.spawn(this.ns.pub, 'turnserver', ['-c', conf]);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout?.resume();
    const turn: TurnServer = {
      secret,
      realm,
      port: 3478,
      logFile,
      log: () => {
        try {
          return readFileSync(logFile, 'utf8');
        } catch {
          return '';
        }
      },
    };
    // ready once it listens on UDP 3478 in `pub`
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (child.exitCode !== null) {
        throw new Error(`turnserver exited (${child.exitCode}): ${stderr}\n${turn.log()}`);
      }
      const ss = this.exec(this.ns.pub, 'ss', ['-lnu']);
      if (ss.includes(`${ADDR.pub}:3478`)) break;
      if (Date.now() > deadline) throw new Error(`turnserver not listening:\n${turn.log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    this.turn = turn;
    return turn;
  }

  /** Kills what this lab started and deletes its namespaces. Idempotent. */
  async destroy(): Promise<void> {
    const exits = [...this.procs].map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.exitCode !== null || p.signalCode !== null) return resolve();
          p.once('exit', () => resolve());
          p.kill('SIGTERM');
          setTimeout(() => {
            p.kill('SIGKILL');
            resolve();
          }, 3000).unref();
        }),
    );
    await Promise.all(exits);
    this.destroySync();
  }

  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    live.delete(this);
    for (const p of this.procs) {
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    }
    for (const ns of this.created.splice(0).reverse()) {
      // anything still running inside a namespace this lab made (started by this lab)
      try {
        const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' })
          .split('\n')
          .map((l) => Number(l.trim()))
          .filter((n) => Number.isInteger(n) && n > 0);
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone
          }
        }
      } catch {
        // namespace already gone
      }
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'pipe' });
      } catch {
        // already gone
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
