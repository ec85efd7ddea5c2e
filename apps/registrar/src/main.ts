// Registrar entry point: `node apps/registrar/dist/main.js` (see docs/operations.md).
import { createRegistrar } from './app.js';
import { ConfigError, loadConfig } from './config/config.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const registrar = await createRegistrar(config);
  if (registrar.bootstrap?.generatedPassword) {
    // Printed once, to the terminal only (never through the logger, never stored in clear).
    process.stdout.write(
      `\n  First start: organization created.\n` +
        `  Sign in as ${registrar.bootstrap.email} with password: ${registrar.bootstrap.generatedPassword}\n` +
        `  (shown once; change it after signing in)\n\n`,
    );
  }
  process.stdout.write(
    `registrar listening on ${registrar.url} (API docs: ${registrar.url}/api/docs, database: ${
      config.databaseUrl ? 'postgresql' : `embedded PGlite in ${config.dataDir}`
    })\n`,
  );
  const stop = (): void => {
    registrar.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `registrar failed to start: ${error instanceof ConfigError ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
