// Prisma CLI configuration for the registrar (Prisma 6.19, no native engines).
//
// - `engine: 'js'` + a driver adapter run the CLI on the WebAssembly schema engine, so
//   `prisma generate` and `prisma migrate diff` need no binary download.
// - The schema's datasource `url` is unused by the app (it passes a driver adapter at run
//   time); the CLI only needs the variable to exist, so a placeholder is set here.
// See docs/operations.md ("Database migrations").
import { defineConfig } from 'prisma/config';

process.env['DATABASE_URL'] ??= 'postgresql://unused@localhost/unused';

export default defineConfig({
  schema: '../../prisma/schema.prisma',
  engine: 'js',
  experimental: { adapter: true },
  // Throwaway in-memory PGlite: the CLI needs an adapter to start; `migrate diff` between
  // two schema files never touches it.
  adapter: async () => {
    const { PGlite } = await import('@electric-sql/pglite');
    const { PrismaPGlite } = await import('pglite-prisma-adapter');
    // Typed against driver-adapter-utils 6.10 (see src/database/sql-driver.ts).
    return new PrismaPGlite(new PGlite()) as never;
  },
});
