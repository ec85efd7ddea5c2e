// Structured logs (pino, JSON lines to stdout). Secrets are redacted by key wherever they
// appear; code never passes a secret value as a message string.
import { pino } from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app: 'edge-agent' },
      redact: {
        paths: [
          'password',
          '*.password',
          'claimCode',
          '*.claimCode',
          'privateKey',
          '*.privateKey',
          'grant',
          '*.grant',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

/** A logger that drops everything (tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
