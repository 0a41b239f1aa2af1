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
  const { servers, user, pass } = withUserInfo(options);
  try {
    return await connect({
      servers,
      name: options.name ?? 'stockade',
      ...(user ? { user, pass: pass ?? '' } : {}),
      ...(options.token ? { token: options.token } : {}),
      timeout: options.timeoutMs ?? 5000,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      // Async stack traces cost about half of the client's CPU per publish (shared/LIMITS.md).
      noAsyncTraces: true,
    });
  } catch (err) {
    const shown = servers.join(',');
    throw new StkError('STK_ERR_NATS_UNREACHABLE', `cannot reach NATS at ${shown}: ${(err as Error).message}`, { servers: shown }, { cause: err });
  }
}

/**
 * Server URLs may carry credentials (`nats://user:pass@host:port`, as the Go client and the NATS
 * CLI take them): they are taken out of the URLs, which alone are ever shown, and used as the
 * user and password unless those are given.
 */
function withUserInfo(o: NatsConnectOptions): { servers: string[]; user?: string | undefined; pass?: string | undefined } {
  let user = o.user;
  let pass = o.pass;
  const servers = (Array.isArray(o.servers) ? o.servers : [o.servers]).map((s) => {
    const m = /^([a-z]+:\/\/)([^@/]*)@(.*)$/i.exec(s);
    if (!m) return s;
    const [name, secret] = m[2]!.split(':');
    if (!user && name) {
      user = decodeURIComponent(name);
      pass = decodeURIComponent(secret ?? '');
    }
    return `${m[1]}${m[3]}`;
  });
  return { servers, user, pass };
}

/** A server URL with credentials in it, for handing the bus to a process of the same install. Never log it. */
export function urlWithCredentials(url: string, user: string, pass: string): string {
  return url.replace(/^([a-z]+:\/\/)/i, `$1${encodeURIComponent(user)}:${encodeURIComponent(pass)}@`);
}

/** Server URLs (one, or several separated by commas) as a log line may show them: any password in them replaced. */
export function withoutPasswords(urls: string): string {
  return urls.replace(/(^|,)(\s*[a-z]+:\/\/[^:@/,]*):[^@/,]*@/gi, '$1$2:[redacted]@');
}

/** NATS_URL may list several servers separated by commas. */
export function parseNatsUrl(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
