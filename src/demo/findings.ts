// Findings work of each customer: patches installed (and simulated) through the agents, two scans of
// the declared block, a backdoor account disabled, and the findings decided on with reasons — so
// the book holds findings in every state: open, remediated, accepted-risk and false-positive.
import type { Onboarded, SeedContext } from './onboard.ts';
import type { OperatorApi } from './operator.ts';
import { command, listAll } from './ops.ts';
import { SCAN_PORTS, scanner } from './scan.ts';
import { UPDATE_OFFERS } from './hosts.ts';

interface FindingView {
  id: string;
  agentId: string;
  product: string;
  title: string;
  subject: string;
  key: string | null;
  state: string;
  details: Record<string, unknown>;
}

async function findings(api: OperatorApi, o: Onboarded, product: string): Promise<FindingView[]> {
  const wait = o.token ? `&waitFor=${encodeURIComponent(o.token)}` : '';
  return listAll<FindingView>(api, `/tenants/${o.tenant}/findings`, `product=${product}${wait}`);
}

async function decide(api: OperatorApi, o: Onboarded, f: FindingView | undefined, state: string, reason: string): Promise<void> {
  if (f && f.state === 'open') await api.call('PATCH', `/tenants/${o.tenant}/findings/${f.id}`, { state, reason });
}

/** Identity: the backdoor account disabled on its host, and the identity findings decided on. */
export async function identityWork(ctx: SeedContext, o: Onboarded): Promise<void> {
  const analyst = await ctx.cast.as(o.plan.analyst);
  const customerAdmin = await ctx.cast.as(o.plan.admin);
  const backdoored = [...o.agents.values()].find((a) => a.host.identityEvent === 'uid0-backdoor');
  if (backdoored)
    await command(analyst, o.tenant, backdoored, o.state, ctx.timeoutMs, 'disable-account', {
      account: 'sysupdate',
      source: 'local',
      reason: 'uid-0 backdoor',
    });
  const all = await findings(analyst, o, 'identity');
  const by = (finding: string, account?: string) => all.find((f) => f.details.finding === finding && (!account || f.details.account === account));
  await decide(
    analyst,
    o,
    by('extra-uid-0', 'sysupdate'),
    'remediated',
    'Account locked and expired by the agent (usermod -L -e 1), then removed from /etc/passwd; entry point closed.',
  );
  await decide(
    customerAdmin,
    o,
    by('empty-password'),
    'accepted-risk',
    'Needed by the ERP batch import until the ERP is replaced in Q3; the host is reachable from the office VLAN only.',
  );
  await decide(
    analyst,
    o,
    by('sudo-no-password'),
    'false-positive',
    'sudoers.d/deploy allows only `systemctl reload nginx` without a password, as the deploy pipeline needs.',
  );
}

/** Patch: security updates installed on one host, simulated on another, a maintenance window set, one update's risk accepted. */
export async function patchWork(ctx: SeedContext, o: Onboarded): Promise<void> {
  const analyst = await ctx.cast.as(o.plan.analyst);
  const customerAdmin = await ctx.cast.as(o.plan.admin);
  const security = (h: Onboarded['plan']['hosts'][number]) =>
    h.missing.filter((m) => UPDATE_OFFERS[h.os].some((u) => u.package === m.package && u.security && !u.reboot)).map((m) => m.package);
  const live = [...o.agents.values()].filter((a) => !a.host.decommissioned && security(a.host).length > 0);
  const [first, second] = live;
  if (first) {
    const packages = security(first.host).slice(0, 3);
    await command(analyst, o.tenant, first, o.state, ctx.timeoutMs, 'install-patches', { mode: 'packages', packages, dryRun: false });
  }
  if (second) await command(analyst, o.tenant, second, o.state, ctx.timeoutMs, 'install-patches', { mode: 'security', dryRun: true });
  await customerAdmin.call('PUT', `/tenants/${o.tenant}/patch-settings`, {
    window: { days: ['sat', 'sun'], start: '02:00', end: '05:00', timeZone: 'Europe/Berlin' },
    thresholdDays: 14,
  });
  // A fresh heartbeat after the jobs: its token covers the inventories the jobs sent.
  if (first) o.token = await first.heartbeat();
  const kernel = (await findings(analyst, o, 'patch')).find((f) => f.state === 'open' && /linux-image/.test(f.key ?? f.subject));
  await decide(
    customerAdmin,
    o,
    kernel,
    'accepted-risk',
    'Kernel update waits for the quarterly reboot window (change 2291); no untrusted users on this host.',
  );
  ctx.progress(`${o.plan.name}: patches installed on ${first?.host.hostname ?? 'no host'}, a dry run on ${second?.host.hostname ?? 'no host'}, window set`);
}

/** Attack surface: the agent inside the network scans the declared block twice; the findings are decided on. */
export async function scanWork(ctx: SeedContext, o: Onboarded): Promise<void> {
  const analyst = await ctx.cast.as(o.plan.analyst);
  const customerAdmin = await ctx.cast.as(o.plan.admin);
  const from = o.agents.get(scanner(o.plan).hostname)!;
  const args = { targets: [o.plan.scanBlock], ports: SCAN_PORTS, ratePerSecond: 50 };
  await command(analyst, o.tenant, from, o.state, ctx.timeoutMs, 'run-scan', args);
  await command(analyst, o.tenant, from, o.state, ctx.timeoutMs, 'run-scan', args);
  o.token = await from.heartbeat();
  const all = await findings(analyst, o, 'attack-surface');
  const kind = (k: string) => all.find((f) => f.state === 'open' && (f.key ?? '').includes(`:${k}`));
  await decide(
    customerAdmin,
    o,
    kind('cert-self-signed'),
    'accepted-risk',
    'Internal ERP endpoint; the certificate goes with the ERP upgrade. Reachable from the office only.',
  );
  await decide(
    analyst,
    o,
    kind('vulnerable-banner'),
    'false-positive',
    "The distribution backported the fix; the banner shows the upstream version only (checked the package's changelog).",
  );
  ctx.progress(`${o.plan.name}: two scans of ${o.plan.scanBlock} from ${from.host.hostname}, ${all.length} attack-surface findings`);
}
