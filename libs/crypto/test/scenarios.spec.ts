import { describe, it } from 'vitest';
import { scenarios } from './shared/scenarios.js';

describe('crypto scenarios (Node entry; the same run in Chromium in test/webrtc/browser.spec.ts)', () => {
  for (const scenario of scenarios) {
    it(scenario.name, () => scenario.run());
  }
});
