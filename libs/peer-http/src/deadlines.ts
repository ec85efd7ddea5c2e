/**
 * Deadlines of a session's pending requests on one timer, armed at the earliest. A timer per
 * request costs a timer-list insert and removal each (in Node a list is made and dropped
 * every time when requests run one after another), which a small request pays on its
 * critical path; here a request adds and removes a map entry and the timer is touched only
 * when a deadline is earlier than the one it is armed for, or when it fires.
 *
 * While a deadline is pending the timer keeps a Node process alive, as a request's own timer
 * would; with none pending it does not.
 */

type Timer = ReturnType<typeof setTimeout>;

interface Entry {
  at: number;
  expire: () => void;
}

export class Deadlines {
  private readonly pending = new Map<object, Entry>();
  private timer: Timer | undefined;
  /** When the armed timer fires (performance.now() time); Infinity when none is armed. */
  private armedFor = Infinity;
  private referenced = true;

  /** Calls `expire` in `ms` unless {@link delete} removes `key` first. */
  add(key: object, ms: number, expire: () => void): void {
    const at = performance.now() + ms;
    this.pending.set(key, { at, expire });
    if (at < this.armedFor) this.arm(at, ms);
    else if (!this.referenced) this.ref(true);
  }

  delete(key: object): void {
    if (this.pending.delete(key) && this.pending.size === 0) this.ref(false);
  }

  get size(): number {
    return this.pending.size;
  }

  /** Stops the timer; pending deadlines never expire. */
  clear(): void {
    this.pending.clear();
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
  }

  private arm(at: number, ms: number): void {
    clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = setTimeout(this.sweep, Math.max(0, Math.ceil(ms)));
    this.referenced = true;
  }

  private ref(on: boolean): void {
    this.referenced = on;
    const timer = this.timer as { ref?: () => void; unref?: () => void } | undefined;
    if (on) timer?.ref?.();
    else timer?.unref?.();
  }

  private readonly sweep = (): void => {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = performance.now();
    let next = Infinity;
    const expired: Entry[] = [];
    for (const [key, entry] of this.pending) {
      if (entry.at <= now) {
        this.pending.delete(key);
        expired.push(entry);
      } else if (entry.at < next) {
        next = entry.at;
      }
    }
    // a timer may fire a little before its time (Node rounds to the loop's clock): re-armed
    if (next < Infinity) this.arm(next, Math.max(1, next - now));
    for (const entry of expired) entry.expire();
  };
}
