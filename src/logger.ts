import pino, { type Logger } from 'pino';

export type { Logger };

/** Paths that are secrets wherever they appear in a log object; pino replaces them centrally. */
export const REDACT_PATHS = [
  'secret',
  '*.secret',
  'enrollSecret',
  '*.enrollSecret',
  'token',
  '*.token',
  'key',
  '*.key',
  'privateKey',
  '*.privateKey',
  'password',
  '*.password',
  'pass',
  '*.pass',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'adminKey',
  '*.adminKey',
];

/**
 * The one root logger. JSON lines on stdout; pretty when stdout is a terminal (and pino-pretty is
 * installed). Components take `logger.child({ component, tenant, agentId, requestId })`.
 */
export function createLogger(o: { level?: string; name?: string; destination?: NodeJS.WritableStream; json?: boolean } = {}): Logger {
  const options = {
    name: o.name ?? 'stockade',
    level: o.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: pino.stdSerializers.err },
  };
  if (o.destination) return pino(options, o.destination as pino.DestinationStream);
  if (process.stdout.isTTY && !o.json) {
    try {
      return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true } } });
    } catch {
      // pino-pretty is a dev dependency; without it, plain JSON is still right.
    }
  }
  return pino(options);
}
