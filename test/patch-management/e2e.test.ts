import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { installPatchesCommand } from '../../src/agent/commands/install-patches.ts';
import { posterOf } from '../../src/agent/commands/context.ts';
import { collectPatchInventory } from '../../src/agent/commands/inventory.ts';
import { IngressClient } from '../../src/agent/run/client.ts';
import { HostRoot } from '../../src/agent/host-root.ts';
import { nextWindowStart } from '../../src/agent/patch/window.ts';
import { type PatchRepoFixture, patchRepoFixture } from '../helpers/debrepo.ts';
import { freshTenant } from '../helpers/events.ts';
import { tempDir } from '../helpers/nats.ts';
import { enrolled, type Stack, stackFixture } from '../attack-surface/fixture.ts';

/**
 * Patch management end to end: two versions of small .debs built with dpkg-deb, served from local
 * `file:` apt repositories (a stable one, and a security one holding stk-demo 1.1), v1 installed
 * into a prepared root. The agent's inventory collector and install-patches handler run against
 * that root and the real ingress; everything is then read back through the operator API. Nothing
 * here touches the machine's own packages.
 */
const test = suite('patch management end to end: inventory, compliance, findings, dry run, window, upgrade');
const run = promisify(execFile);

let s: Stack;
let tmp: { path: string; cleanup(): Promise<void> };
let fx: PatchRepoFixture;

test.before(async () => {
  s = await stackFixture();
  tmp = await tempDir('stk-patch-e2e-');
  fx = await patchRepoFixture(tmp.path);
});
test.after(async () => {
  await s?.close();
  await tmp?.cleanup();
});

function versionIn(status: string, pkg: string): string | undefined {
  const stanza = status.split('\n\n').find((x) => x.startsWith(`Package: ${pkg}\n`));
  return /^Version: (.+)$/m.exec(stanza ?? '')?.[1];
}

test('the pending security update shows through the API, a dry run changes nothing, a real run in the window upgrades it and clears the finding', async () => {
  const { f } = s;
  const tenant = freshTenant('pm');
  const { enrollSecret } = await f.tenant(tenant, ['patch']);
  const op = await f.token(tenant, 'operator');
  const agent = await enrolled(s, enrollSecret, 'db-01');
  const agentId = agent.client.agentId;
  const base = `/api/v1/tenants/${tenant}`;
  const rootDir = await fx.freshRoot();
  const root = new HostRoot(rootDir);
  const statusFile = join(rootDir, 'var/lib/dpkg/status');
  try {
    // The collector takes the inventory of the prepared root and posts it, through the agent loop's own client.
    const loop = new IngressClient(agent.client.state);
    const { inventory, answer } = await collectPatchInventory({ root, client: posterOf(loop) }).finally(() => loop.close());
    assert.is(answer.status, 202, JSON.stringify(answer.body));
    assert.is(answer.body.inventory.recorded, true);
    assert.is(answer.body.inventory.findings.opened, 1);
    assert.equal(
      inventory.upgrades.map((u) => [u.package, u.from, u.to, u.security]),
      [
        ['stk-demo', '1.0', '1.1', true],
        ['stk-other', '1.0', '1.1', false],
        ['stk-broken', '1.0', '1.1', false],
      ],
    );
    const token = answer.body.consistencyToken;
    const host = await f.call('GET', `${base}/patches/hosts/${agentId}?waitFor=${token}`, { token: op });
    assert.is(host.status, 200, JSON.stringify(host.body));
    assert.is(host.body.hostname, 'db-01');
    assert.equal(
      host.body.missingSecurity.map((m: { package: string; from: string; to: string; cves: string[]; ageDays: number }) => [
        m.package,
        m.from,
        m.to,
        m.cves,
        m.ageDays,
      ]),
      [['stk-demo', '1.0', '1.1', ['CVE-2024-12345', 'CVE-2024-23456'], 0]],
    );
    assert.equal(
      host.body.pending.map((p: { package: string; keptBack: boolean }) => [p.package, p.keptBack]),
      [
        ['stk-demo', false],
        ['stk-other', false],
        ['stk-broken', true],
      ],
    );
    assert.is(host.body.compliance.compliant, true, 'a fresh update is within the 14-day threshold');
    assert.equal(
      host.body.installed.map((p: { name: string; version: string }) => `${p.name}=${p.version}`),
      ['stk-broken=1.0', 'stk-demo=1.0', 'stk-other=1.0'],
    );
    const findings = await f.call('GET', `${base}/findings?product=patch`, { token: op });
    assert.equal(
      findings.body.items.map((x: { key: string; state: string; subject: string; severity: string }) => [x.key, x.state, x.subject, x.severity]),
      [['patch:stk-demo:1.1', 'open', 'stk-demo', 'medium']],
    );
    const findingId = findings.body.items[0].id;
    const pkgs = await f.call('GET', `${base}/patches/packages?security=yes`, { token: op });
    assert.equal(
      pkgs.body.items.map((p: { package: string; hostCount: number; cves: string[] }) => [p.package, p.hostCount, p.cves]),
      [['stk-demo', 1, ['CVE-2024-12345', 'CVE-2024-23456']]],
    );
    const summary = await f.call('GET', `${base}/patches`, { token: op });
    assert.equal([summary.body.hosts, summary.body.compliant, summary.body.missingSecurity], [1, 1, 1]);
    const hosts = await f.call('GET', `${base}/patches/hosts?compliant=yes`, { token: op });
    assert.equal(
      hosts.body.items.map((h: { agentId: string; missingSecurityCount: number }) => [h.agentId, h.missingSecurityCount]),
      [[agentId, 1]],
    );

    // The same inventory again is a resend: nothing written.
    const before = await f.stk.runtime.log.lastPosition();
    const resend = await agent.poster.post('/agent/v1/inventory', { agentId, inventory });
    assert.is(resend.status, 202);
    assert.is(resend.body.inventory.recorded, false);
    assert.is(await f.stk.runtime.log.lastPosition(), before);

    // Arguments are checked at dispatch.
    const bad = await f.call('POST', `${base}/agents/${agentId}/commands`, {
      token: op,
      body: { action: 'install-patches', args: { mode: 'packages', packages: ['stk-demo;reboot'], dryRun: false } },
    });
    assert.is(bad.status, 400);
    // The action's argument schema refuses it at the API (the decider's own check would say STK_ERR_PATCH_PACKAGE_INVALID).
    assert.is(bad.body.error.code, 'STK_ERR_VALIDATION');
    assert.equal((await agent.client.commands()).length, 0, 'nothing was dispatched');

    const job = async (args: Record<string, unknown>, clock?: { now: () => Date; waitUntil: (at: Date) => Promise<void> }) => {
      const d = await f.call('POST', `${base}/agents/${agentId}/commands`, { token: op, body: { action: 'install-patches', args } });
      assert.is(d.status, 201, JSON.stringify(d.body));
      const [cmd] = await agent.client.commands();
      assert.is(cmd!.id, d.body.id);
      const r = await installPatchesCommand(cmd!.args, { root, client: agent.poster, commandId: cmd!.id, ...(clock ?? {}) });
      const posted = await agent.client.result(cmd!.id, r.outcome, r.output);
      assert.is(posted.status, 200);
      return { id: cmd!.id, args: cmd!.args, r, token: posted.body.consistencyToken as string };
    };

    // A dry run: apt simulates; the root's dpkg status is byte for byte what it was.
    const statusBefore = await readFile(statusFile, 'utf8');
    const dry = await job({ mode: 'security', dryRun: true });
    assert.is(dry.r.outcome, 'succeeded', dry.r.output);
    assert.is(dry.args.window, null);
    assert.is(await readFile(statusFile, 'utf8'), statusBefore);
    const dryJob = await f.call('GET', `${base}/patches/jobs/${dry.id}?waitFor=${dry.token}`, { token: op });
    assert.is(dryJob.status, 200, JSON.stringify(dryJob.body));
    assert.is(dryJob.body.dryRun, true);
    assert.equal(
      dryJob.body.results.map((x: { package: string; from: string; to: string; outcome: string; exitCode: number }) => [
        x.package,
        x.from,
        x.to,
        x.outcome,
        x.exitCode,
      ]),
      [['stk-demo', '1.0', '1.1', 'would-upgrade', 0]],
    );
    assert.is((await f.call('GET', `${base}/findings/${findingId}`, { token: op })).body.state, 'open');

    // A maintenance window that is closed now: the command carries it, the agent holds it until it opens.
    const tomorrow = new Date(Date.now() + 86_400_000);
    const window = { days: [['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][tomorrow.getUTCDay()]], start: '00:00', end: '24:00', timeZone: 'UTC' };
    assert.is((await f.call('PUT', `${base}/patch-settings`, { token: op, body: { window } })).status, 403, 'an operator token does not set the window');
    const set = await f.call('PUT', `${base}/patch-settings`, { body: { window } });
    assert.is(set.status, 200, JSON.stringify(set.body));
    let clock = new Date();
    const expected = nextWindowStart(window as never, clock);
    assert.ok(expected.getTime() > clock.getTime());
    const waited: Date[] = [];
    const real = await job(
      { mode: 'security', dryRun: false },
      {
        now: () => clock,
        waitUntil: async (t) => {
          waited.push(t);
          clock = t;
        },
      },
    );
    assert.equal(real.args.window, window);
    assert.equal(waited, [expected], 'held until the window opened, then run');
    assert.is(real.r.outcome, 'succeeded', real.r.output);
    assert.is(real.r.details.heldUntil, expected.toISOString());
    assert.is(versionIn(await readFile(statusFile, 'utf8'), 'stk-demo'), '1.1');

    const realJob = await f.call('GET', `${base}/patches/jobs/${real.id}?waitFor=${real.token}`, { token: op });
    assert.equal(
      realJob.body.results.map((x: { package: string; from: string; to: string; outcome: string; exitCode: number }) => [
        x.package,
        x.from,
        x.to,
        x.outcome,
        x.exitCode,
      ]),
      [['stk-demo', '1.0', '1.1', 'upgraded', 0]],
    );
    const remediated = await f.call('GET', `${base}/findings/${findingId}`, { token: op });
    assert.is(remediated.body.state, 'remediated');
    assert.match(remediated.body.history.at(-1).reason, /: installed$/);
    const after = await f.call('GET', `${base}/patches/hosts/${agentId}`, { token: op });
    assert.equal(after.body.missingSecurity, []);
    assert.is(after.body.lastCommandId, real.id);
    assert.ok(after.body.installed.some((p: { name: string; version: string }) => p.name === 'stk-demo' && p.version === '1.1'));
    assert.equal(
      after.body.jobs.map((j: { id: string }) => j.id),
      [real.id, dry.id],
    );
    const trend = await f.call('GET', `${base}/patches/trend?days=3`, { token: op });
    assert.equal(
      trend.body.series.map((d: { recorded: boolean; missingSecurity: number; hosts: number }) => [d.recorded, d.hosts, d.missingSecurity]),
      [
        [false, 0, 0],
        [false, 0, 0],
        [true, 1, 0],
      ],
    );

    // The machine's own package database knows nothing of the test packages.
    const own = await run('dpkg-query', ['-W', '-f', '$' + '{Package}\n']);
    assert.not.ok(own.stdout.split('\n').some((l) => l.startsWith('stk-')));
  } finally {
    agent.close();
  }
});

test.run();
