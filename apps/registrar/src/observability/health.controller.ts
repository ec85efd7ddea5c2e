import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../common/auth.decorators.js';
import { DomainError, ErrorCode } from '../common/errors.js';
import { SQL_DRIVER } from '../database/database.tokens.js';
import type { SqlDriver } from '../database/sql-driver.js';
import { MqttService } from '../mqtt/mqtt.service.js';
import { MetricsService } from './metrics.service.js';

@ApiExcludeController()
@Public()
@Controller()
export class HealthController {
  constructor(
    @Inject(SQL_DRIVER) private readonly driver: SqlDriver,
    private readonly metrics: MetricsService,
    private readonly mqtt: MqttService,
  ) {}

  /** Liveness: the process serves HTTP. */
  @Get('health')
  health() {
    return { status: 'ok' };
  }

  /** Readiness: the database answers. */
  @Get('ready')
  async ready() {
    try {
      await this.driver.query('SELECT 1');
    } catch {
      throw new DomainError(ErrorCode.NOT_READY, 'database unavailable');
    }
    if (!this.mqtt.connected())
      throw new DomainError(ErrorCode.NOT_READY, 'MQTT broker unavailable');
    return { status: 'ready', database: this.driver.kind, mqtt: 'connected' };
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  render(): Promise<string> {
    return this.metrics.render();
  }
}
