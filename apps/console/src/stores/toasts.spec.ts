import { afterEach, describe, expect, it, vi } from 'vitest';
import { setupTest } from '../testing/setup.js';
import { TOAST_MS, useToastStore } from './toasts.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('toast store', () => {
  it('auto-dismisses info but keeps errors, and keeps at most four', () => {
    vi.useFakeTimers();
    setupTest();
    const toasts = useToastStore();
    toasts.success('saved');
    toasts.error('failed');
    vi.advanceTimersByTime(TOAST_MS);
    expect(toasts.toasts.map((t) => t.message)).toEqual(['failed']);
    for (let i = 0; i < 5; i++) toasts.info(`n${i}`);
    expect(toasts.toasts.map((t) => t.message)).toEqual(['n1', 'n2', 'n3', 'n4']);
  });
});
