import {
  type DynamicModule,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  RequestMethod,
  ValidationPipe,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { LoggerModule } from 'nestjs-pino';
import { AuditController } from './audit/audit.controller.js';
import { AuditRepository } from './audit/audit.repository.js';
import { AuditService } from './audit/audit.service.js';
import { AuthController } from './auth/auth.controller.js';
import { AuthGuard } from './auth/auth.guard.js';
import { AuthRepository } from './auth/auth.repository.js';
import { AuthService } from './auth/auth.service.js';
import { ClaimCodesController } from './claim-codes/claim-codes.controller.js';
import { ClaimCodesRepository } from './claim-codes/claim-codes.repository.js';
import { ClaimCodesService } from './claim-codes/claim-codes.service.js';
import { JsonBodyMiddleware } from './common/body-parser.middleware.js';
import { AllExceptionsFilter } from './common/exception.filter.js';
import { genRequestId } from './common/request-context.js';
import { CONFIG, type RegistrarConfig } from './config/config.js';
import { PRISMA, SQL_DRIVER } from './database/database.tokens.js';
import type { Db } from './database/prisma.js';
import type { SqlDriver } from './database/sql-driver.js';
import { DevicesController } from './devices/devices.controller.js';
import { DevicesRepository } from './devices/devices.repository.js';
import { DevicesService } from './devices/devices.service.js';
import { EnrollmentController } from './enrollment/enrollment.controller.js';
import { EnrollmentRepository } from './enrollment/enrollment.repository.js';
import { EnrollmentService } from './enrollment/enrollment.service.js';
import { GrantsController } from './grants/grants.controller.js';
import { GrantsRepository } from './grants/grants.repository.js';
import { GrantsService } from './grants/grants.service.js';
import { GroupsController } from './groups/groups.controller.js';
import { GroupsRepository } from './groups/groups.repository.js';
import { GroupsService } from './groups/groups.service.js';
import { REGISTRAR_KEY, type RegistrarKey } from './keys/registrar-key.js';
import { HealthController } from './observability/health.controller.js';
import { MetricsService } from './observability/metrics.service.js';
import { MqttService } from './mqtt/mqtt.service.js';
import { OrgsController } from './orgs/orgs.controller.js';
import { OrgsRepository } from './orgs/orgs.repository.js';
import { OrgsService } from './orgs/orgs.service.js';
import { SessionsController } from './sessions/sessions.controller.js';
import { SessionsService } from './sessions/sessions.service.js';
import { SignalingGateway } from './signaling/signaling.gateway.js';
import { InvitesController } from './invites/invites.controller.js';
import { InvitesRepository } from './invites/invites.repository.js';
import { InvitesService } from './invites/invites.service.js';
import { UsersController } from './users/users.controller.js';
import { UsersRepository } from './users/users.repository.js';
import { UsersService } from './users/users.service.js';

export interface AppDeps {
  config: RegistrarConfig;
  prisma: Db;
  driver: SqlDriver;
  registrarKey: RegistrarKey;
}

/** Log redaction: credentials never reach the logs. */
export const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
  '*.code',
  '*.proof',
  '*.mqttPassword',
  '*.secret',
  '*.credential',
];

@Module({})
export class AppModule implements NestModule {
  static forRoot(deps: AppDeps): DynamicModule {
    const { config } = deps;
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot({
          // Express 5 path syntax (nestjs-pino's default '*' triggers a legacy-route warning).
          forRoutes: [{ path: '*path', method: RequestMethod.ALL }],
          pinoHttp: {
            level: config.logLevel,
            genReqId: (req) => genRequestId(req),
            redact: { paths: REDACT, censor: '[redacted]' },
            customLogLevel: (_req, res, err) =>
              err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
          },
        }),
        ThrottlerModule.forRoot({
          throttlers: [
            { name: 'login', ttl: config.loginRateWindowMs, limit: config.loginRateLimit },
            { name: 'enroll', ttl: 60_000, limit: config.enrollRateLimit },
          ],
          errorMessage: 'too many requests, try again later',
        }),
      ],
      controllers: [
        HealthController,
        AuthController,
        UsersController,
        InvitesController,
        DevicesController,
        ClaimCodesController,
        EnrollmentController,
        GrantsController,
        GroupsController,
        AuditController,
        OrgsController,
        SessionsController,
      ],
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: PRISMA, useValue: deps.prisma },
        { provide: SQL_DRIVER, useValue: deps.driver },
        { provide: REGISTRAR_KEY, useValue: deps.registrarKey },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        { provide: APP_GUARD, useClass: AuthGuard },
        {
          provide: APP_PIPE,
          useValue: new ValidationPipe({
            whitelist: true,
            forbidNonWhitelisted: true,
            forbidUnknownValues: true,
            transform: true,
            validationError: { target: false, value: false },
          }),
        },
        MetricsService,
        MqttService,
        AuditRepository,
        AuditService,
        AuthRepository,
        AuthService,
        UsersRepository,
        UsersService,
        InvitesRepository,
        InvitesService,
        DevicesRepository,
        DevicesService,
        ClaimCodesRepository,
        ClaimCodesService,
        EnrollmentRepository,
        EnrollmentService,
        GrantsRepository,
        GrantsService,
        GroupsRepository,
        GroupsService,
        OrgsRepository,
        OrgsService,
        SessionsService,
        SignalingGateway,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(JsonBodyMiddleware).forRoutes({ path: '*path', method: RequestMethod.ALL });
  }
}
