import { connect, type NatsConnection } from '@nats-io/transport-node';
import { StkError } from '../errors.ts';

/** How to reach NATS: one or more server URLs and optional credentials. */
export interface NatsConnectOptions {
  servers: string | string[];
  /** Connection name shown in the server's monitoring (`stockade-<role>`). */
  name?: string;
  user?: string;
  pass?: string;
  token?: string;
  /** Time to establish the first connection. @defaultValue 5000 */
  timeoutMs?: number;
}

/**
 * Connects to NATS for a long-lived process: reconnects forever after the first connection, but
 * fails fast with STK_ERR_NATS_UNREACHABLE when the first connection cannot be made, so a
 * misconfigured process exits instead of hanging.
 */
export async function connectNats(options: NatsConnectOptions): Promise<NatsConnection> {
  try {
    return await connect({
      servers: options.servers,
      name: options.name ?? 'stockade',
      ...(options.user ? { user: options.user, pass: options.pass ?? '' } : {}),
      ...(options.token ? { token: options.token } : {}),
      timeout: options.timeoutMs ?? 5000,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      // Async stack traces cost about half of the client's CPU per publish (shared/LIMITS.md).
      noAsyncTraces: true,
    });
  } catch (err) {
    const servers = Array.isArray(options.servers) ? options.servers.join(',') : options.servers;
    throw new StkError('STK_ERR_NATS_UNREACHABLE', `cannot reach NATS at ${servers}: ${(err as Error).message}`, { servers }, { cause: err });
  }
}

/** NATS_URL may list several servers separated by commas. */
export function parseNatsUrl(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
