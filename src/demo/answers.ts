// How a demo agent carries out a command: what `stockade agent run` would do on the book's host,
// answered through the same routes — a run-scan stores and seals its run, install-patches posts
// its job and the fresh inventory, collect-evidence uploads the file — then the result text in the
// reference agent's form (what was done, then `details: {…}`).
import { type ActionResult, failed, succeeded } from '../agent/actions/result.ts';
import { isolationRuleset, ISOLATION_TABLE } from '../agent/actions/isolation.ts';
import { resultText } from '../agent/run/actions.ts';
import type { DemoAgent, PulledCommand } from './agent.ts';
import type { CustomerPlan } from './book.ts';
import { UPDATE_OFFERS } from './hosts.ts';
import { inventoryOf, jobOf } from './patch.ts';
import { runRoot, SCAN_PORTS, scanItems, servicesOf } from './scan.ts';

/** What the demo agents of one customer remember between commands. */
export interface CustomerState {
  customer: CustomerPlan;
  now: Date;
  /** The ingress as the agents reach it (the isolation table keeps exactly this open). */
  ingress: { host: string; port: number };
  /** Runs each scan-running agent has made. */
  scanRuns: number;
  /** Packages upgraded per host name. */
  installed: Map<string, Set<string>>;
}

const run = (command: string, args: string[], stdout = '', stderr = '') => ({ command, args, exitCode: 0, signal: null, stdout, stderr });
const described = (r: ReturnType<typeof run>) => `${[r.command, ...r.args].join(' ')} exited with status 0${r.stdout ? `:\n${r.stdout}` : ''}`;

/** Carries out one pulled command on the book's host and posts its result; answers the result. */
export async function answer(agent: DemoAgent, cmd: PulledCommand, s: CustomerState): Promise<ActionResult> {
  const r = await carryOut(agent, cmd, s);
  await agent.result(cmd.id, r.outcome, resultText(r));
  return r;
}

async function carryOut(agent: DemoAgent, cmd: PulledCommand, s: CustomerState): Promise<ActionResult> {
  const h = agent.host;
  const a = cmd.args;
  switch (cmd.action) {
    case 'ping':
      return succeeded('pong');
    case 'collect-inventory':
      return succeeded(JSON.stringify(agent.beat().inventory));
    case 'isolate-host': {
      const ruleset = isolationRuleset({ addresses: [s.ingress.host], port: s.ingress.port });
      const r = run('nft', ['-f', '-']);
      return succeeded(`isolated: only ${s.ingress.host} port ${s.ingress.port} is reachable\n${described(r)}`, {
        ingressHost: s.ingress.host,
        ingressPort: s.ingress.port,
        addresses: [s.ingress.host],
        table: `inet ${ISOLATION_TABLE}`,
        ruleset,
      });
    }
    case 'release-host':
      return succeeded(`released\n${described(run('nft', ['delete', 'table', 'inet', ISOLATION_TABLE]))}`, {
        table: `inet ${ISOLATION_TABLE}`,
        wasIsolated: true,
      });
    case 'kill-process': {
      const v = h.attack?.victim;
      if (!v || v.pid !== a.pid) return failed(`refused: no running process with pid ${a.pid}`, { pid: a.pid, reason: 'gone' });
      if (v.sha256 !== a.sha256)
        return failed(`refused: pid ${v.pid} runs an executable with SHA-256 ${v.sha256}, not ${a.sha256}; the pid was probably reused`, { pid: v.pid });
      return succeeded(`pid ${v.pid} ended after SIGTERM`, { pid: v.pid, sha256: v.sha256, signal: 'SIGTERM' });
    }
    case 'collect-evidence': {
      const e = h.attack?.evidence;
      const path = String(a.path);
      if (!e || e.path !== path) return failed(`refused: ${path} does not exist`, { path, reason: 'ENOENT' });
      const content = Buffer.from(e.content);
      const evidenceId = await agent.evidence(cmd.id, path, content);
      return succeeded(`${path}: ${content.length} bytes; uploaded as evidence ${evidenceId}`, { path, sizeBytes: content.length, evidenceId });
    }
    case 'disable-account':
    case 'lock-account':
    case 'expire-account': {
      const steps = cmd.action === 'disable-account' ? [['-L'], ['-e', '1']] : cmd.action === 'lock-account' ? [['-L']] : [['-e', '1']];
      const runs = steps.map((flags) => run('usermod', ['--root', '/', ...flags, '--', String(a.account)]));
      return succeeded(runs.map(described).join('\n'), { account: a.account, action: cmd.action, local: true });
    }
    case 'reset-credentials':
      return succeeded(described(run('chage', ['--root', '/', '--lastday', '0', '--', String(a.account)])), { account: a.account, action: cmd.action });
    case 'run-scan':
      return scan(agent, cmd, s);
    case 'install-patches':
      return patch(agent, cmd, s);
    default:
      return failed(`this agent does not know the action ${cmd.action}`);
  }
}

/** The run's items in parts of at most 1,000, sealed with the last, as `runScanCommand` stores them. */
async function scan(agent: DemoAgent, cmd: PulledCommand, s: CustomerState): Promise<ActionResult> {
  s.scanRuns += 1;
  const items = scanItems(s.customer, s.scanRuns === 1 ? 1 : 2);
  const root = runRoot(items);
  const startedAt = new Date().toISOString();
  let sealed: { runId?: string; sealed?: { diff?: unknown } } = {};
  for (let offset = 0; offset < items.length || offset === 0; offset += 1000) {
    const last = offset + 1000 >= items.length;
    sealed = await agent.post('/agent/v1/scan-runs', {
      agentId: agent.agentId,
      runId: cmd.id,
      commandId: cmd.id,
      offset,
      items: items.slice(offset, offset + 1000),
      ...(last
        ? {
            seal: {
              count: items.length,
              merkleRoot: root,
              startedAt,
              finishedAt: new Date().toISOString(),
              aborted: false,
              targets: (cmd.args.targets as string[]) ?? [s.customer.scanBlock],
              ports: (cmd.args.ports as number[]) ?? SCAN_PORTS,
              services: servicesOf(agent.host),
            },
          }
        : {}),
    });
    if (last) break;
  }
  const counts = { open: 0, closed: 0, filtered: 0 };
  for (const i of items) counts[i.state]++;
  return succeeded(
    `scanned ${items.length} endpoints (${counts.open} open, ${counts.closed} closed, ${counts.filtered} filtered) with ${counts.open + counts.closed} connections; run ${sealed.runId} sealed, Merkle root ${root}`,
    { runId: sealed.runId ?? null, count: items.length, merkleRoot: root, counts, aborted: false, diff: sealed.sealed?.diff ?? null },
  );
}

/** The job result per package, then (after a real run) the inventory taken afterwards. */
async function patch(agent: DemoAgent, cmd: PulledCommand, s: CustomerState): Promise<ActionResult> {
  const h = agent.host;
  const dryRun = cmd.args.dryRun === true;
  const security = h.missing.filter((m) => UPDATE_OFFERS[h.os].some((u) => u.package === m.package && u.security)).map((m) => m.package);
  const packages = cmd.args.mode === 'packages' ? (cmd.args.packages as string[]) : security;
  const startedAt = new Date().toISOString();
  const job = jobOf(h, cmd.id, packages, dryRun, startedAt, new Date().toISOString());
  const installed = s.installed.get(h.hostname) ?? new Set<string>();
  if (!dryRun) for (const p of packages) installed.add(p);
  s.installed.set(h.hostname, installed);
  await agent.post('/agent/v1/inventory', {
    agentId: agent.agentId,
    job,
    ...(dryRun ? {} : { inventory: inventoryOf(h, s.now, new Date().toISOString(), installed) }),
  });
  const lines = job.results.map((p) => `${p.package}: ${p.outcome} ${p.from ?? '-'} → ${p.to ?? '-'} (exit ${p.exitCode})`);
  const details = {
    dryRun,
    heldUntil: null,
    rebootRequired: job.rebootRequired,
    results: job.results.map((p) => ({ package: p.package, from: p.from, to: p.to, outcome: p.outcome, exitCode: p.exitCode })),
    reported: true,
  };
  return succeeded([`${dryRun ? 'dry run: ' : ''}${job.results.length} package(s)`, ...lines].join('\n'), details);
}
