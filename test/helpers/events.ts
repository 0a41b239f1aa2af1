import { ConsistencyTokens } from '../../src/api/consistency.ts';
import type { Actor, EventLog, Streams } from '../../src/log/mod.ts';
import { newId } from '../../src/ids.ts';
import { execute } from '../../src/domain/execute.ts';
import { tenantDecider } from '../../commands/tenants/decider.ts';
import { agentDecider } from '../../commands/agents/decider.ts';
import { alertDecider } from '../../commands/alerts/decider.ts';
import { findingDecider } from '../../commands/findings/decider.ts';
import { mintSecret } from '../../src/tenancy/secrets.ts';
import { PRODUCTS, type Product } from '../../src/domain/products.ts';

/** Events as the ingress would append them, for tests that run before (or without) the ingress. */
export const AGENT_ACTOR = (agentId: string): Actor => ({ kind: 'agent', id: agentId });
export const ADMIN: Actor = { kind: 'operator', id: 'admin' };

let n = 0;
/** A fresh tenant id, unique per test run. */
export function freshTenant(label = 't'): string {
  return `${label}-${process.pid}-${++n}-${newId()
    .slice(0, 6)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, 'x')}`;
}

export async function createTenant(log: EventLog, tenant: string, products: Product[] = []): Promise<{ secret: string; position: number }> {
  const s = mintSecret('enroll');
  let r = await execute(
    log,
    { tenant: tenant, id: tenant },
    tenantDecider,
    { kind: 'create', name: `Tenant ${tenant}`, secret: { lookup: s.lookup, hash: s.hash } },
    { actor: ADMIN, known: 'new' },
  );
  for (const product of products)
    r = await execute(log, { tenant: tenant, id: tenant }, tenantDecider, { kind: 'set-product', product, enabled: true }, { actor: ADMIN });
  return { secret: s.secret, position: r.position };
}

export async function enrollAgent(log: EventLog, tenant: string, hostname = 'ws-1'): Promise<{ agentId: string; position: number }> {
  const agentId = newId();
  const r = await execute(
    log,
    { tenant: tenant, id: agentId },
    agentDecider,
    {
      kind: 'enroll',
      agent: { hostname, os: 'linux', agentVersion: '1.0.0', certFingerprint: 'a'.repeat(64), certNotAfter: '2030-01-01T00:00:00.000Z' },
    },
    { actor: AGENT_ACTOR(agentId), known: 'new' },
  );
  return { agentId, position: r.position };
}

export async function raiseAlert(
  log: EventLog,
  tenant: string,
  agentId: string,
  o: { severity?: 'low' | 'medium' | 'high' | 'critical'; title?: string; product?: Product | null } = {},
): Promise<{ alertId: string; position: number }> {
  const alertId = newId();
  const r = await execute(
    log,
    { tenant: tenant, id: alertId },
    alertDecider,
    {
      kind: 'raise',
      alert: {
        agentId,
        product: o.product ?? null,
        rule: 'edr.suspicious-child',
        severity: o.severity ?? 'high',
        title: o.title ?? 'Suspicious child process',
        observedAt: '2026-01-01T00:00:00.000Z',
      },
    },
    { actor: AGENT_ACTOR(agentId), known: 'new' },
  );
  return { alertId, position: r.position };
}

export async function reportFinding(
  log: EventLog,
  tenant: string,
  agentId: string,
  product: Product = 'patch',
): Promise<{ findingId: string; position: number }> {
  const findingId = newId();
  const r = await execute(
    log,
    { tenant: tenant, id: findingId },
    findingDecider,
    {
      kind: 'report',
      finding: { agentId, product, title: 'openssl 3.0.1 is vulnerable', severity: 'high', subject: 'openssl', observedAt: '2026-01-01T00:00:00.000Z' },
    },
    { actor: AGENT_ACTOR(agentId), known: 'new' },
  );
  return { findingId, position: r.position };
}

/** A dispatch context that lets every action through: for tests that write commands directly to the log. */
export const ANY_CONTEXT = { products: PRODUCTS, suspended: false, agentStatus: 'active' } as const;

const tokenKeys = new WeakMap<Streams, Promise<ConsistencyTokens>>();

/**
 * The read token for a log position of `tenant`, as the API would issue it: for tests that append
 * to the log directly and then read through the API with `waitFor`.
 */
export async function readToken(streams: Streams, tenant: string, position: number): Promise<string> {
  let t = tokenKeys.get(streams);
  if (!t) {
    t = ConsistencyTokens.open(streams);
    tokenKeys.set(streams, t);
  }
  return (await t).issue(tenant, position);
}
