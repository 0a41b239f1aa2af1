import { resolve } from 'node:path';
import { StkError } from './errors.ts';

export const ROLES = ['api', 'ingress', 'projector', 'sealer'] as const;
export type Role = (typeof ROLES)[number];

/** Everything a Stockade process is configured with; flags win over STOCKADE_* variables. */
export interface Config {
  dataDir: string;
  roles: Role[];
  /** External NATS; when empty, `serve` starts an embedded nats-server. */
  natsUrl: string[];
  natsUser?: string;
  natsPass?: string;
  httpHost: string;
  httpPort: number;
  ingressHost: string;
  ingressPort: number;
  logLevel: string;
  /** Replicas of the streams (3 on a cluster). */
  replicas: number;
  /** The ingress as agents reach it (behind NAT, a load balancer, a DNS name); shown in enroll commands. */
  publicIngressUrl?: string;
}

export interface ConfigInput {
  data?: string;
  role?: string;
  natsUrl?: string;
  http?: string;
  ingress?: string;
  logLevel?: string;
  replicas?: string | number;
  publicIngressUrl?: string;
}

function hostPort(value: string, what: string): { host: string; port: number } {
  const m = /^(?:\[?([^\]]*)\]?:)?(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new StkError('STK_ERR_CONFIG', `${what} must be host:port or a port, got ${JSON.stringify(value)}`, { what, value });
  return { host: m[1] || '127.0.0.1', port };
}

/** Builds the configuration from flags and the environment. */
export function loadConfig(input: ConfigInput = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const rolesText = input.role ?? env.STOCKADE_ROLE ?? ROLES.join(',');
  const roles = rolesText
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  for (const r of roles) {
    if (!(ROLES as readonly string[]).includes(r))
      throw new StkError('STK_ERR_CONFIG', `unknown role ${JSON.stringify(r)}; roles are ${ROLES.join(', ')}`, { role: r });
  }
  const http = hostPort(input.http ?? env.STOCKADE_HTTP ?? '127.0.0.1:8080', 'http address');
  const ingress = hostPort(input.ingress ?? env.STOCKADE_INGRESS ?? '127.0.0.1:8443', 'ingress address');
  const natsUrl = (input.natsUrl ?? env.NATS_URL ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const replicas = Number(input.replicas ?? env.STOCKADE_REPLICAS ?? 1);
  if (![1, 3, 5].includes(replicas)) throw new StkError('STK_ERR_CONFIG', 'replicas must be 1, 3 or 5', { replicas });
  const publicIngressUrl = publicUrl(input.publicIngressUrl ?? env.STOCKADE_PUBLIC_INGRESS_URL);
  return {
    dataDir: resolve(input.data ?? env.STOCKADE_DATA ?? './data'),
    roles: roles as Role[],
    natsUrl,
    ...(env.STOCKADE_NATS_USER ? { natsUser: env.STOCKADE_NATS_USER } : {}),
    ...(env.STOCKADE_NATS_PASS ? { natsPass: env.STOCKADE_NATS_PASS } : {}),
    httpHost: http.host,
    httpPort: http.port,
    ingressHost: ingress.host,
    ingressPort: ingress.port,
    logLevel: input.logLevel ?? env.STOCKADE_LOG_LEVEL ?? 'info',
    replicas,
    ...(publicIngressUrl ? { publicIngressUrl } : {}),
  };
}

/** An https origin (optionally with a path), without a trailing slash; undefined when not set. */
function publicUrl(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  let u: URL;
  try {
    u = new URL(value.trim());
  } catch {
    throw new StkError('STK_ERR_CONFIG', `public ingress URL must be an https URL, got ${JSON.stringify(value)}`, { what: 'public ingress url', value });
  }
  if (u.protocol !== 'https:' || u.username || u.password || u.search || u.hash) {
    throw new StkError('STK_ERR_CONFIG', `public ingress URL must be an https URL without credentials, query or fragment, got ${JSON.stringify(value)}`, {
      what: 'public ingress url',
      value,
    });
  }
  return u.href.replace(/\/$/, '');
}
