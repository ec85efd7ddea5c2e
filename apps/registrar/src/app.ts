// Builds a registrar: database (migrated), signing key, Nest app. Used by main.ts and by
// the tests, so both run exactly the same wiring.
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import cookieParser from 'cookie-parser';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import type { RegistrarConfig } from './config/config.js';
import { migrate, readMigrations, type MigrationResult } from './database/migrator.js';
import { createPrismaClient } from './database/prisma.js';
import { openSqlDriver } from './database/sql-driver.js';
import { loadRegistrarKey } from './keys/registrar-key.js';
import { httpMetrics } from './observability/http-metrics.middleware.js';
import { MetricsService } from './observability/metrics.service.js';
import { securityHeaders, staticConsole } from './observability/static-console.js';
import { type BootstrapResult, UsersService } from './users/users.service.js';

export interface Registrar {
  app: INestApplication;
  /** http://host:port of the listening server. */
  url: string;
  migrations: MigrationResult;
  /** Set on the very first start only (the first org and its owner). */
  bootstrap: BootstrapResult | null;
  close(): Promise<void>;
}

export async function createRegistrar(config: RegistrarConfig): Promise<Registrar> {
  const driver = await openSqlDriver({
    databaseUrl: config.databaseUrl,
    pgliteDir: join(config.dataDir, 'pglite'),
  });
  let app: NestExpressApplication | undefined;
  let countQuery: () => void = () => undefined;
  const prisma = createPrismaClient(driver, () => countQuery());
  try {
    const migrations = await migrate(driver, await readMigrations(config.migrationsDir));
    const registrarKey = await loadRegistrarKey(config.registrarKeyFile);
    app = await NestFactory.create<NestExpressApplication>(
      AppModule.forRoot({ config, prisma, driver, registrarKey }),
      { bodyParser: false, bufferLogs: true, abortOnError: false },
    );
    app.useLogger(app.get(Logger));
    app.set('trust proxy', config.trustProxy);
    app.disable('x-powered-by');
    const metrics = app.get(MetricsService);
    countQuery = () => metrics.dbQueries.inc();
    driver.onQuery = countQuery;
    app.use(httpMetrics(metrics));
    app.use(securityHeaders);
    if (config.consoleDir) app.use(...staticConsole(config.consoleDir));
    app.use(cookieParser());
    app.setGlobalPrefix('api', { exclude: ['health', 'ready', 'metrics'] });
    const document = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('peerfetch registrar')
        .setDescription(
          'Control plane: auth, devices, enrollment, grants, audit. Errors are ' +
            '{statusCode, code, message, details?, correlationId}.',
        )
        .setVersion('0.1.0')
        .addBearerAuth()
        .addCookieAuth('pf_session')
        .build(),
    );
    SwaggerModule.setup('api/docs', app, document);
    await app.init();
    const bootstrap = await app.get(UsersService).bootstrap();
    await app.listen(config.port, config.host);
    const address = app.getHttpServer().address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const nest = app;
    let closed = false;
    return {
      app: nest,
      url: `http://${host}:${address.port}`,
      migrations,
      bootstrap,
      async close() {
        if (closed) return;
        closed = true;
        await nest.close();
        await prisma.$disconnect();
        await driver.close();
      },
    };
  } catch (error) {
    await app?.close().catch(() => undefined);
    await prisma.$disconnect().catch(() => undefined);
    await driver.close().catch(() => undefined);
    throw error;
  }
}
