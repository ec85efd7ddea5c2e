/** Told when each block of calls starts and ends (between timed calls, never inside one). */
export interface TurnObserver<K extends string> {
  blockStarted(name: K): void;
  blockEnded(name: K, calls: number): void;
}

/**
 * Times `n` sequential calls of each variant, ms: `warmup` calls of each first (enough for
 * the JIT to have optimized the code on both ends, as in a process that has served for a
 * while), then the variants take turns in ten blocks, so a drift of the machine's state
 * affects them alike. `observer` hears of each timed block (the bench meters CPU time with
 * it). Browser-safe: the bench runs it in Node and in the Chromium page.
 */
export async function takingTurns<K extends string>(
  variants: Record<K, () => Promise<unknown>>,
  n: number,
  warmup: number,
  observer?: TurnObserver<K>,
): Promise<Record<K, number[]>> {
  const entries = Object.entries(variants) as Array<[K, () => Promise<unknown>]>;
  for (const [, call] of entries) for (let i = 0; i < warmup; i++) await call();
  const times = Object.fromEntries(entries.map(([name]) => [name, []])) as unknown as Record<
    K,
    number[]
  >;
  const block = Math.max(1, Math.ceil(n / 10));
  for (let done = 0; done < n; done += block) {
    const end = Math.min(n, done + block);
    for (const [name, call] of entries) {
      observer?.blockStarted(name);
      for (let i = done; i < end; i++) {
        const started = performance.now();
        await call();
        times[name].push(performance.now() - started);
      }
      observer?.blockEnded(name, end - done);
    }
  }
  return times;
}
