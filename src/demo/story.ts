// The afternoon of each customer, after its agents started: the first collection's alerts triaged,
// then the attacks, and what the people do about them — incidents with notes, isolation, killed
// processes, evidence in custody — through the API as themselves, the agents answering every
// command the way `stockade agent run` would.
import type { WireEvent } from '../agent/client.ts';
import type { Severity } from '../../commands/alerts/events.ts';
import type { DemoAgent } from './agent.ts';
import type { HostPlan } from './book.ts';
import { type AlertView, waitForAlerts } from './forecast.ts';
import { eventItems, findingReports, findingSubjects, snapshotAfter, snapshotBefore } from './identity.ts';
import { CUSTODIANS } from './names.ts';
import type { Onboarded, SeedContext } from './onboard.ts';
import type { OperatorApi } from './operator.ts';
import { carryOut, command, dispatch, listAll, until } from './ops.ts';

const SEVERITY_RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };
const PRIVILEGED_MEMBER = 'New Member of a Privileged Group';

/** What happened on a host, as an incident's title says it. */
function incidentTitle(h: HostPlan): string {
  switch (h.attack!.kind) {
    case 'webshell':
      return `Web shell and reverse shell on ${h.hostname}`;
    case 'miner':
      return h.role === 'build' ? `Coin miner started by a build job on ${h.hostname}` : `Coin miner running from /tmp on ${h.hostname}`;
    case 'dropper':
      return `Encoded payload run from cron on ${h.hostname}`;
    case 'reverse-shell':
      return `Interactive shell handed out with netcat on ${h.hostname}`;
  }
}

/** The alerts of the first collection (the administrators every host already had) are expected: resolved in one go. */
export async function triageBaseline(ctx: SeedContext, o: Onboarded): Promise<void> {
  const analyst = await ctx.cast.as(o.plan.analyst);
  const alerts = await waitForAlerts(analyst, o.tenant, o.forecast.expected(), ctx.timeoutMs);
  const open = alerts.filter((a) => a.status === 'open');
  for (let i = 0; i < open.length; i += 100)
    await analyst.call('POST', `/tenants/${o.tenant}/alerts/bulk`, {
      action: 'resolve',
      alertIds: open.slice(i, i + 100).map((a) => a.id),
      reason: 'Known administrators and service accounts, reported at the first collection (baseline).',
    });
  o.forecast.closed(new Set(open.map((a) => a.title)));
  // The MSP's own support login is expected everywhere: the rule stops reporting it for this customer.
  const rule = open.find((a) => a.title === PRIVILEGED_MEMBER)?.rule;
  if (rule && o.plan.index === 0) await analyst.call('PUT', `/tenants/${o.tenant}/detection/rules/${rule}/setting`, { exclude: { Account: ['hpsupport'] } });
  if (open.length) ctx.progress(`${o.plan.name}: ${open.length} baseline alert(s) resolved`);
}

/** The attacks as the agents see them, and the alerts they raise (waited for). */
export async function attacks(ctx: SeedContext, o: Onboarded): Promise<AlertView[]> {
  const products = new Set(o.plan.products);
  for (const [, a] of o.agents) {
    const h = a.host;
    const at = new Date().toISOString();
    if (products.has('edr') && h.attack) {
      await a.telemetry(h.attack.items);
      o.forecast.items(a.agentId, h.attack.items);
    }
    if (products.has('identity') && h.identityEvent) {
      const items = eventItems(h);
      await a.telemetry(items);
      o.forecast.items(a.agentId, items);
      const fresh = findingReports(snapshotAfter(h), findingSubjects(snapshotBefore(h)), at);
      if (fresh.length) o.token = await a.report(fresh);
    }
    if (products.has('edr') && h.agentAlerts.length) {
      const events: WireEvent[] = h.agentAlerts.map((x) => ({
        kind: 'alert',
        at,
        data: { rule: x.rule, severity: x.severity, title: x.title, details: { host: h.hostname } },
      }));
      o.token = await a.report(events);
      for (const x of h.agentAlerts) o.forecast.reported(a.agentId, x.title);
    }
  }
  const alerts = await waitForAlerts(await ctx.cast.as(o.plan.analyst), o.tenant, o.forecast.expected(), ctx.timeoutMs);
  ctx.progress(`${o.plan.name}: ${alerts.length} alerts raised (${summarise(alerts)})`);
  return alerts;
}

function summarise(alerts: readonly AlertView[]): string {
  const by = new Map<string, number>();
  for (const a of alerts) by.set(a.severity, (by.get(a.severity) ?? 0) + 1);
  return (['critical', 'high', 'medium', 'low'] as const)
    .filter((s) => by.has(s))
    .map((s) => `${by.get(s)} ${s}`)
    .join(', ');
}

/** EDR: an incident per attacked host, contained and documented, evidence in custody; the agent-raised alerts triaged. */
export async function respond(ctx: SeedContext, o: Onboarded, alerts: readonly AlertView[]): Promise<void> {
  const t = `/tenants/${o.tenant}`;
  const analyst = await ctx.cast.as(o.plan.analyst);
  const customerAdmin = await ctx.cast.as(o.plan.admin);
  const flagship = o.plan.index === 0;
  let gated: string | null = null;
  // The worst incident is opened last, so it heads the list (newest first).
  const attacked = [...o.agents.values()].filter((a) => a.host.attack).sort((x, y) => worst(x.agentId) - worst(y.agentId));
  function worst(agentId: string): number {
    return Math.max(-1, ...alerts.filter((a) => a.agentId === agentId).map((a) => SEVERITY_RANK[a.severity as Severity]));
  }
  for (const agent of attacked) {
    const h = agent.host;
    const attack = h.attack!;
    const own = alerts.filter((a) => a.agentId === agent.agentId && a.status === 'open');
    if (own.length === 0) continue;
    const severity = own.reduce<Severity>((s, a) => (SEVERITY_RANK[a.severity as Severity] > SEVERITY_RANK[s] ? (a.severity as Severity) : s), 'low');
    const incident: { id: string } = await analyst.call('POST', `${t}/incidents`, {
      title: incidentTitle(h),
      severity,
      alertIds: own.map((a) => a.id).slice(0, 100),
    });
    const i = `${t}/incidents/${incident.id}`;
    await analyst.call('PATCH', i, { status: 'investigating', assignee: o.plan.analyst });
    await analyst.call('POST', `${i}/comments`, { text: firstNote(h, attack.attacker) });
    if (attack.kind === 'webshell' || attack.kind === 'reverse-shell') {
      await command(analyst, o.tenant, agent, o.state, ctx.timeoutMs, 'isolate-host', {
        reason: `incident ${incident.id}: active session to ${attack.attacker}`,
      });
      o.forecast.items(agent.agentId, [{ kind: 'host-isolation', state: 'isolated', actor: 'operator' }]);
      await analyst.call('POST', `${i}/comments`, { text: `Isolated ${h.hostname}: only the Stockade ingress is reachable. The agent keeps reporting.` });
    }
    // The flagship's miner is killed through four eyes (fourEyes below); every other victim at once.
    if (attack.victim && !(flagship && attack.kind === 'miner'))
      await command(analyst, o.tenant, agent, o.state, ctx.timeoutMs, 'kill-process', {
        pid: attack.victim.pid,
        sha256: attack.victim.sha256,
        reason: `incident ${incident.id}`,
      });
    if (attack.evidence && !(flagship && attack.kind === 'miner'))
      await collect(ctx, o, analyst, agent, attack.evidence.path, flagship && attack.kind === 'webshell');
    if (flagship && attack.kind === 'webshell') {
      // The access log had rotated away before anyone asked for it: the agent says so.
      await command(analyst, o.tenant, agent, o.state, ctx.timeoutMs, 'collect-evidence', { path: '/var/log/nginx/access.log.1' });
      await analyst.call('PATCH', i, { status: 'contained' });
      await analyst.call('POST', `${i}/comments`, {
        text: `The upload form of ${o.plan.name} accepted .php files. Their developer is adding a type check; until then the form is switched off. Web root and shell collected as evidence.`,
      });
    }
    if (flagship && attack.kind === 'miner') gated = incident.id;
  }
  // The policy comes last: once it gates isolation and kills, every further one needs a second person.
  if (gated) await fourEyes(ctx, o, analyst, customerAdmin, gated);
  // Alerts the agents raised themselves: the test file is acknowledged, a config change explained.
  for (const a of alerts.filter((x) => x.status === 'open' && x.rule.startsWith('av.eicar'))) await analyst.call('POST', `${t}/alerts/${a.id}/ack`, {});
  for (const a of alerts.filter((x) => x.status === 'open' && x.rule === 'fim.sshd-config'))
    await analyst.call('POST', `${t}/alerts/${a.id}/resolve`, {
      reason: `Change made by ${o.plan.name}'s admin to turn off password logins (their ticket 4711).`,
    });
  ctx.progress(`${o.plan.name}: incidents opened, hosts contained, evidence collected`);
}

function firstNote(h: HostPlan, attacker: string): string {
  switch (h.attack!.kind) {
    case 'webshell':
      return `php-fpm on ${h.hostname} started shells as www-data, fetched a script from ${attacker} and opened a reverse shell to ${attacker}:4444. Looks like a file uploaded through the site's form.`;
    case 'miner': {
      const user = h.attack!.items.find((i) => i.kind === 'process')?.user ?? 'a user';
      return h.role === 'build'
        ? `A build job dropped /tmp/.X11-cache/kworkerd on ${h.hostname}, mining to ${attacker}, and put itself in the ${user} crontab. Checking which job and which commit.`
        : `/tmp/.X11-cache/kworkerd runs as ${user} on ${h.hostname}, mining to ${attacker}, restarted from ${user}'s crontab. How did it get there: a leaked key for ${user}?`;
    }
    case 'dropper':
      return `A cron entry on ${h.hostname} decodes a base64 payload and pipes it into bash; the payload fetches more from ${attacker}. Who added /etc/cron.d/sys-update?`;
    case 'reverse-shell':
      return `netcat handed out a bash to ${attacker}:443 from a user session on ${h.hostname}. Asked the customer whether the user was working at the time.`;
  }
}

/** collect-evidence, then the custody the evidence goes through: transferred, and on the flagship downloaded and sealed. */
async function collect(ctx: SeedContext, o: Onboarded, analyst: OperatorApi, agent: DemoAgent, path: string, full: boolean): Promise<void> {
  const t = `/tenants/${o.tenant}`;
  const id = await command(analyst, o.tenant, agent, o.state, ctx.timeoutMs, 'collect-evidence', { path, maxBytes: 1_048_576 });
  const evidence = await until(`evidence of command ${id}`, o.tenant, ctx.timeoutMs, async () =>
    (await listAll<{ id: string; commandId: string | null }>(analyst, `${t}/evidence`)).find((e) => e.commandId === id),
  );
  await analyst.call('POST', `${t}/evidence/${evidence.id}/transfer`, {
    to: CUSTODIANS[o.plan.index % CUSTODIANS.length],
    note: 'Bagged for the incident; hash checked on arrival.',
  });
  if (!full) return;
  const content = await analyst.send('GET', `${t}/evidence/${evidence.id}/content`);
  if (content.status !== 200) throw new Error(`downloading evidence ${evidence.id}: ${content.status}`);
  await analyst.call('POST', `${t}/evidence/${evidence.id}/seal`, { note: 'Analysis done; sealed for the customer file.' });
}

/**
 * Four eyes on the flagship: its admin gates the destructive actions; the analyst's kill of the
 * miner waits for the admin's approval, then runs; a later isolation request waits still.
 */
async function fourEyes(ctx: SeedContext, o: Onboarded, analyst: OperatorApi, customerAdmin: OperatorApi, incidentId: string): Promise<void> {
  const t = `/tenants/${o.tenant}`;
  await customerAdmin.call('PUT', `${t}/policy`, { fourEyes: ['isolate-host', 'kill-process', 'role-change'], approvalExpiryMinutes: 1440 });
  const build = [...o.agents.values()].find((a) => a.host.attack?.kind === 'miner')!;
  const victim = build.host.attack!.victim!;
  const asked = await dispatch(analyst, o.tenant, build, 'kill-process', { pid: victim.pid, sha256: victim.sha256, reason: `incident ${incidentId}` });
  const approved: { result?: { outcome: string; ref: string } } = await customerAdmin.call('POST', `${t}/approvals/${asked.approvalId}/approve`, {});
  if (approved.result?.outcome === 'issued') await carryOut(build, approved.result.ref, o.state, o.tenant, ctx.timeoutMs);
  // Collected after the kill, and still in transfer: the newest evidence is one that can move on.
  await collect(ctx, o, analyst, build, build.host.attack!.evidence!.path, false);
  const i = `${t}/incidents/${incidentId}`;
  await analyst.call('POST', `${i}/comments`, {
    text: 'kill-process approved by the customer (four eyes); the miner is gone, the job and its credentials are rotated.',
  });
  await analyst.call('PATCH', i, { status: 'resolved' });
  await analyst.call('POST', `${i}/close`, { reason: 'Miner removed, cron entry deleted, build job fixed and its token rotated. No data touched.' });
  // The sudo grant on the database server is unexplained: its isolation waits for a second person.
  const db = [...o.agents.values()].find((a) => a.host.identityEvent === 'sudo-grant') ?? build;
  await dispatch(analyst, o.tenant, db, 'isolate-host', { reason: `unexplained sudo grant on ${db.host.hostname}` });
  ctx.progress(`${o.plan.name}: four-eyes policy set, one request approved and carried out, one pending`);
}
