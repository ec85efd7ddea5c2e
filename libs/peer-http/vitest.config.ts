import { peerfetchProject } from '../../vitest.shared.js';

// WebRTC and browser tests (test/webrtc) need a network namespace and run from their own config.
export default peerfetchProject(import.meta.dirname, {
  test: { exclude: ['**/node_modules/**', 'test/webrtc/**'] },
});
