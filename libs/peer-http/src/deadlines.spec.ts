import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Deadlines } from './deadlines.js';

describe('Deadlines', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.useRealTimers();
  });

  it('expires each deadline at its own time, an earlier one added later included', () => {
    const deadlines = new Deadlines();
    const expired: string[] = [];
    deadlines.add({}, 1000, () => expired.push('long'));
    deadlines.add({}, 100, () => expired.push('short'));
    deadlines.add({}, 500, () => expired.push('middle'));
    vi.advanceTimersByTime(99);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(['short']);
    vi.advanceTimersByTime(400);
    expect(expired).toEqual(['short', 'middle']);
    vi.advanceTimersByTime(499);
    expect(expired).toEqual(['short', 'middle']);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(['short', 'middle', 'long']);
    expect(deadlines.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('never expires a deleted deadline, and keeps the others', () => {
    const deadlines = new Deadlines();
    const first = {};
    const expire = vi.fn();
    const other = vi.fn();
    deadlines.add(first, 100, expire);
    deadlines.add({}, 200, other);
    deadlines.delete(first);
    vi.advanceTimersByTime(1000);
    expect(expire).not.toHaveBeenCalled();
    expect(other).toHaveBeenCalledTimes(1);
  });

  it('uses one timer for requests that follow each other', () => {
    const deadlines = new Deadlines();
    const expire = vi.fn();
    for (let i = 0; i < 100; i++) {
      const key = {};
      deadlines.add(key, 30_000, expire);
      vi.advanceTimersByTime(10);
      deadlines.delete(key);
    }
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(60_000);
    expect(expire).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('re-arms when the timer fires before the earliest deadline', () => {
    const deadlines = new Deadlines();
    const expire = vi.fn();
    deadlines.add({}, 100, expire);
    // the clock the deadlines use lags the timer's (Node rounds timers to the loop's clock)
    const now = performance.now.bind(performance);
    vi.spyOn(performance, 'now').mockImplementation(() => now() - 3);
    vi.advanceTimersByTime(100);
    expect(expire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(3);
    expect(expire).toHaveBeenCalledTimes(1);
  });

  it('stops for good on clear()', () => {
    const deadlines = new Deadlines();
    const expire = vi.fn();
    deadlines.add({}, 100, expire);
    deadlines.clear();
    vi.advanceTimersByTime(1000);
    expect(expire).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps a Node process alive only while a deadline is pending', () => {
    vi.useRealTimers();
    const deadlines = new Deadlines();
    const key = {};
    deadlines.add(key, 60_000, () => undefined);
    const timer = (deadlines as unknown as { timer: NodeJS.Timeout }).timer;
    expect(timer.hasRef()).toBe(true);
    deadlines.delete(key);
    expect(timer.hasRef()).toBe(false);
    deadlines.add({}, 60_000, () => undefined);
    expect(timer.hasRef()).toBe(true);
    deadlines.clear();
  });
});
