import swc from 'unplugin-swc';
import { peerfetchProject } from '../../vitest.shared.js';

// NestJS dependency injection needs decorator metadata, which esbuild does not emit: SWC
// compiles the TypeScript here (legacy decorators + metadata, as tsc does for the build).
export default peerfetchProject(import.meta.dirname, {
  plugins: [
    swc.vite({
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
      },
    }),
  ],
  test: {
    // PostgreSQL and Mosquitto for this run: containers when a runtime exists, else the
    // local services (test/global-setup.ts)
    globalSetup: ['test/global-setup.ts'],
    // Integration specs create a database each, hash passwords (argon2id) and boot Nest.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
