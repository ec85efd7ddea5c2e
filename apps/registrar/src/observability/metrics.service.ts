import { Injectable } from '@nestjs/common';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics of one registrar instance (own registry, so several instances can
 * live in one test process). Byte counters cover every HTTP request/response and every
 * WebSocket frame: with the payload path being peer-to-peer, they show that the registrar
 * only ever carries signaling-sized traffic.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'registrar_http_requests_total',
    help: 'HTTP requests served',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpBytesIn = new Counter({
    name: 'registrar_http_bytes_in_total',
    help: 'HTTP request body bytes received',
    registers: [this.registry],
  });
  readonly httpBytesOut = new Counter({
    name: 'registrar_http_bytes_out_total',
    help: 'HTTP response body bytes sent',
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'registrar_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly wsBytesIn = new Counter({
    name: 'registrar_ws_bytes_in_total',
    help: 'WebSocket message bytes received from consoles',
    registers: [this.registry],
  });
  readonly wsBytesOut = new Counter({
    name: 'registrar_ws_bytes_out_total',
    help: 'WebSocket message bytes sent to consoles',
    registers: [this.registry],
  });

  readonly mqttBytesIn = new Counter({
    name: 'registrar_mqtt_bytes_in_total',
    help: 'MQTT payload bytes received by the registrar client',
    registers: [this.registry],
  });
  readonly mqttBytesOut = new Counter({
    name: 'registrar_mqtt_bytes_out_total',
    help: 'MQTT payload bytes published by the registrar client',
    registers: [this.registry],
  });

  readonly brokerBytes = new Counter({
    name: 'registrar_broker_publish_bytes_total',
    help: 'Payload bytes of every message published through the embedded broker, by any client (not $SYS)',
    registers: [this.registry],
  });

  readonly dbQueries = new Counter({
    name: 'registrar_db_queries_total',
    help: 'SQL statements sent to the database (Prisma)',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'registrar_' });
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
