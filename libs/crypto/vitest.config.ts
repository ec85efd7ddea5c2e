import { configDefaults } from 'vitest/config';
import { peerfetchProject } from '../../vitest.shared.js';

// Unit and in-memory tests. WebRTC and Chromium tests (test/webrtc/) need the loopback-only
// network namespace and run from vitest.webrtc.config.ts.
export default peerfetchProject(import.meta.dirname, {
  test: { exclude: [...configDefaults.exclude, 'test/webrtc/**'] },
});
