// A customer joins the book the way a real one would: the admin creates the tenant (marked as the
// demo's at once), turns its products on and gives people roles; the customer's admin declares
// what may be scanned and the patch threshold; then every host's agent enrolls and sends what an
// agent sends when it starts: a heartbeat, its processes and connections, its accounts, its
// identity findings and its patch inventory.
import type { WireEvent } from '../agent/client.ts';
import { isStkError, StkError } from '../errors.ts';
import { DemoAgent } from './agent.ts';
import type { CustomerState } from './answers.ts';
import type { CustomerPlan, DemoBook } from './book.ts';
import { AlertForecast } from './forecast.ts';
import { baselineItems, findingReports, snapshotBefore } from './identity.ts';
import { markerLabel } from './marking.ts';
import type { OperatorApi } from './operator.ts';
import { inventoryOf } from './patch.ts';
import type { Cast } from './people.ts';
import type { DemoTarget } from './target.ts';
import { pool } from '../pool.ts';

/** What every step of the seed shares. */
export interface SeedContext {
  target: DemoTarget;
  admin: OperatorApi;
  cast: Cast;
  book: DemoBook;
  now: Date;
  /** User ids by e-mail. */
  users: Map<string, string>;
  progress: (line: string) => void;
  /** Longest wait for the install to show something (alerts the detector raises). */
  timeoutMs: number;
}

/** A customer whose tenant and agents exist. */
export interface Onboarded {
  plan: CustomerPlan;
  /** The tenant id (the plan's, or with a suffix when an offboarded demo holds that one). */
  tenant: string;
  agents: Map<string, DemoAgent>;
  forecast: AlertForecast;
  state: CustomerState;
  /** The newest read token an agent answer gave (read-your-writes for the operators' reads). */
  token: string | null;
}

const REPORTS_PER_BATCH = 200;

async function createTenant(ctx: SeedContext, plan: CustomerPlan): Promise<{ id: string; secret: string }> {
  // An offboarded tenant's id is reserved forever: a demo seeded again after a reset takes the next free one.
  for (let n = 1; n < 100; n++) {
    const id = n === 1 ? plan.id : `${plan.id}-${n}`;
    try {
      const r: { enrollSecret: string } = await ctx.admin.call('POST', '/tenants', { id, name: plan.name });
      return { id, secret: r.enrollSecret };
    } catch (err) {
      if (!isStkError(err, 'STK_ERR_TENANT_ID_RESERVED')) throw err;
    }
  }
  throw new StkError('STK_ERR_TENANT_ID_RESERVED', `every id from ${plan.id} to ${plan.id}-99 is reserved`, { field: 'id' });
}

/** Creates the customer's tenant, people's roles and agents, and sends what each agent sends first. */
export async function onboard(ctx: SeedContext, plan: CustomerPlan): Promise<Onboarded> {
  const { id: tenant, secret } = await createTenant(ctx, plan);
  const t = `/tenants/${tenant}`;
  // The marker first: a tenant with the prefix and without it is one the seed did not finish marking.
  const marker: { id: string } = await ctx.admin.call('POST', `${t}/tokens`, { role: 'auditor', label: markerLabel(ctx.book.seed), expiresInDays: 1 });
  await ctx.admin.call('POST', `${t}/tokens/${marker.id}/revoke`, {});
  for (const p of plan.products) await ctx.admin.call('PUT', `${t}/products/${p}`, { enabled: true });
  for (const person of ctx.book.people) {
    const roles = person.tenantRoles[plan.id];
    if (roles) await ctx.admin.call('PUT', `${t}/access`, { userId: ctx.users.get(person.email), roles });
  }
  ctx.progress(`${plan.name} (${tenant}): tenant, products ${plan.products.join(', ')}, people`);

  const customerAdmin = await ctx.cast.as(plan.admin);
  if (plan.products.includes('attack-surface')) await customerAdmin.call('PUT', `${t}/attack-surface`, { targets: [plan.scanBlock], expiryWarningDays: 30 });
  if (plan.products.includes('patch')) await customerAdmin.call('PUT', `${t}/patch-settings`, { thresholdDays: 14 });

  const agents = new Map<string, DemoAgent>();
  const forecast = await AlertForecast.of(plan.products);
  const ingress = new URL(ctx.target.ingressUrl);
  const o: Onboarded = {
    plan,
    tenant,
    agents,
    forecast,
    state: {
      customer: plan,
      now: ctx.now,
      ingress: { host: ingress.hostname.replace(/^\[|\]$/g, ''), port: Number(ingress.port || 443) },
      scanRuns: 0,
      installed: new Map(),
    },
    token: null,
  };
  const enrolled = await pool(plan.hosts, 3, (h) => DemoAgent.enroll(ctx.target.ingressUrl, ctx.target.caPem, secret, h));
  for (const a of enrolled) agents.set(a.host.hostname, a);
  try {
    await pool(enrolled, 3, (a) => firstReports(o, a));
    // Written after every answer above: its read token covers all of them.
    o.token = await enrolled[0]!.heartbeat();
  } catch (err) {
    for (const a of enrolled) a.close();
    throw err;
  }
  ctx.progress(`${plan.name}: ${agents.size} agents enrolled and reporting (${plan.hosts.map((h) => h.hostname).join(', ')})`);
  return o;
}

/** What an agent sends when it starts: config read, heartbeat and start, collections, inventory. */
async function firstReports(o: Onboarded, a: DemoAgent): Promise<void> {
  const h = a.host;
  const config = await a.config();
  const on = new Set(config.products);
  const at = new Date().toISOString();
  o.token = await a.report([
    { kind: 'heartbeat', at, data: a.beat() },
    { kind: 'agent-health', at, data: { event: 'started', agentVersion: String(a.beat().agentVersion) } },
  ]);
  if (on.has('edr')) {
    const items = [...h.processes, ...h.connections];
    await a.telemetry(items);
    o.forecast.items(a.agentId, items);
  }
  if (on.has('identity')) {
    const items = baselineItems(h);
    await a.telemetry(items);
    o.forecast.items(a.agentId, items);
    const findings: WireEvent[] = findingReports(snapshotBefore(h), new Set(), at);
    for (let i = 0; i < findings.length; i += REPORTS_PER_BATCH) o.token = await a.report(findings.slice(i, i + REPORTS_PER_BATCH));
  }
  if (on.has('patch')) {
    const r: { consistencyToken?: string } = await a.post('/agent/v1/inventory', { agentId: a.agentId, inventory: inventoryOf(h, o.state.now, at) });
    if (r.consistencyToken) o.token = r.consistencyToken;
  }
}
