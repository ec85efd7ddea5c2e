// CPU time of processes' main threads (the JavaScript thread: peer-http's work and the
// objects', not node-datachannel's own threads), per variant of `takingTurns`. Read from
// Linux's /proc/<pid>/task/<pid>/schedstat (ns on the CPU); elsewhere nothing is measured.
import { readFileSync } from 'node:fs';
import type { TurnObserver } from '../test/support/taking-turns.js';

/** ns the main thread of `pid` has run so far; undefined where /proc does not tell. */
export function mainThreadNs(pid: number): number | undefined {
  try {
    const [ran] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ');
    const ns = Number(ran);
    return Number.isFinite(ns) ? ns : undefined;
  } catch {
    return undefined;
  }
}

/** Main-thread CPU per call of each variant, for each of the named processes. */
export class MainThreadMeter<K extends string> implements TurnObserver<K> {
  private readonly names: string[];
  private readonly pids: number[];
  private started: (number | undefined)[] = [];
  private readonly totals = new Map<K, { calls: number; ns: number[] }>();

  constructor(processes: Record<string, number>) {
    this.names = Object.keys(processes);
    this.pids = Object.values(processes);
  }

  blockStarted(): void {
    this.started = this.pids.map(mainThreadNs);
  }

  blockEnded(name: K, calls: number): void {
    const entry = this.totals.get(name) ?? { calls: 0, ns: this.pids.map(() => 0) };
    this.pids.forEach((pid, i) => {
      const now = mainThreadNs(pid);
      const then = this.started[i];
      entry.ns[i]! += now !== undefined && then !== undefined ? now - then : NaN;
    });
    entry.calls += calls;
    this.totals.set(name, entry);
  }

  /** µs per call by process name (one decimal); undefined if not measured here. */
  perCall(name: K): Record<string, number> | undefined {
    const entry = this.totals.get(name);
    if (!entry || entry.calls === 0 || entry.ns.some((ns) => !Number.isFinite(ns)))
      return undefined;
    return Object.fromEntries(
      this.names.map((process, i) => [
        process,
        Math.round(entry.ns[i]! / entry.calls / 100) / 10, // ns → µs, one decimal
      ]),
    );
  }

  /** {@link perCall} of every variant metered so far; null where not measured here. */
  perCallByVariant(): Record<string, Record<string, number> | null> {
    return Object.fromEntries(
      [...this.totals.keys()].map((name) => [name, this.perCall(name) ?? null]),
    );
  }

  /** "agent 40.1, client 46.2 µs" for a table's note; "" if not measured. */
  describe(name: K): string {
    const perCall = this.perCall(name);
    if (!perCall) return '';
    const parts = Object.entries(perCall).map(([process, us]) => `${process} ${us}`);
    return `main-thread CPU per call ${parts.join(', ')} µs`;
  }
}
