import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { agentCommandDecider } from '../../commands/agent-commands/decider.ts';
import { patchSettingsDecider } from '../../commands/patch/decider.ts';
import type { PatchInventory, PendingUpgrade } from '../../src/agent/patch/inventory.ts';
import { execute } from '../../src/domain/execute.ts';
import { newId } from '../../src/ids.ts';
import { ANY_CONTEXT, freshTenant } from '../helpers/events.ts';
import { enrolled, type Stack, stackFixture } from '../attack-surface/fixture.ts';

/**
 * Inventories through `POST /agent/v1/inventory` without apt: compliance against the tenant's
 * threshold (age counted from when the update was first known), findings per host and update —
 * raised to high when overdue, remediated as superseded when a newer candidate replaces them —
 * and the refusals: product off, a job for a command that is not this agent's install-patches.
 */
const test = suite('patch ingest: compliance over time, findings per host, refusals');

let s: Stack;
test.before(async () => {
  s = await stackFixture();
});
test.after(async () => {
  await s?.close();
});

const DAY = 86_400_000;
const upgrade = (pkg: string, to: string, security: boolean, publishedBy: string | null = null): PendingUpgrade => ({
  package: pkg,
  architecture: 'amd64',
  from: '1.0',
  to,
  security,
  releases: [],
  publishedBy,
  keptBack: false,
  cves: security ? ['CVE-2026-0001'] : [],
});
const inventory = (takenAt: string, upgrades: PendingUpgrade[], reboot = false): PatchInventory => ({
  kind: 'patch-inventory',
  takenAt,
  os: { id: 'debian', versionId: '12', codename: 'bookworm', prettyName: 'Debian GNU/Linux 12 (bookworm)' },
  packages: [
    { name: 'libssl3', version: '1.0', architecture: 'amd64', source: 'openssl', sourceVersion: '1.0', status: 'installed', held: false },
    { name: 'curl', version: '1.0', architecture: 'amd64', source: 'curl', sourceVersion: '1.0', status: 'installed', held: false },
  ],
  upgrades,
  newInstalls: [],
  removals: [],
  reboot: { required: reboot, packages: reboot ? ['linux-image-amd64'] : [] },
  listsRefreshed: true,
  warnings: [],
});

test('an update published long ago is overdue at once; a newer candidate supersedes the finding; two hosts missing one update have a finding each', async () => {
  const tenant = freshTenant('pi');
  const { enrollSecret } = await s.f.tenant(tenant, ['patch']);
  await execute(
    s.f.stk.runtime.log,
    { tenant, id: tenant },
    patchSettingsDecider,
    { kind: 'set', values: { thresholdDays: 7 } },
    { actor: { kind: 'operator', id: 't' } },
  );
  const a = await enrolled(s, enrollSecret, 'a');
  const b = await enrolled(s, enrollSecret, 'b');
  try {
    const old = new Date(Date.now() - 30 * DAY).toISOString();
    const t1 = new Date(Date.now() - 60_000).toISOString();
    const r1 = await a.poster.post('/agent/v1/inventory', {
      agentId: a.client.agentId,
      inventory: inventory(t1, [upgrade('libssl3', '1.1', true, old), upgrade('curl', '1.1', false)], true),
    });
    assert.is(r1.status, 202, JSON.stringify(r1.body));
    assert.equal(
      [r1.body.inventory.compliance.compliant, r1.body.inventory.compliance.overThreshold, r1.body.inventory.compliance.rebootRequired],
      [false, 1, true],
    );
    const r2 = await b.poster.post('/agent/v1/inventory', { agentId: b.client.agentId, inventory: inventory(t1, [upgrade('libssl3', '1.1', true)]) });
    assert.is(r2.status, 202);
    const base = `/api/v1/tenants/${tenant}`;
    const findings = await s.f.call('GET', `${base}/findings?product=patch&waitFor=${r2.body.consistencyToken}`);
    assert.equal(
      findings.body.items
        .map((x: { agentId: string; severity: string; key: string }) => [x.agentId === a.client.agentId ? 'a' : 'b', x.key, x.severity])
        .sort(),
      [
        ['a', 'patch:libssl3:1.1', 'high'],
        ['b', 'patch:libssl3:1.1', 'medium'],
      ],
    );
    const pkgs = await s.f.call('GET', `${base}/patches/packages`);
    assert.equal(
      pkgs.body.items.map((p: { package: string; hostCount: number; securityHosts: number }) => [p.package, p.hostCount, p.securityHosts]),
      [
        ['libssl3', 2, 2],
        ['curl', 1, 0],
      ],
    );
    const worst = await s.f.call('GET', `${base}/patches/hosts`);
    assert.equal(
      worst.body.items.map((h: { hostname: string; compliant: string; rebootRequired: string }) => [h.hostname, h.compliant, h.rebootRequired]),
      [
        ['a', 'no', 'yes'],
        ['b', 'yes', 'no'],
      ],
    );

    // Host a: a newer candidate replaces 1.1; curl is no longer pending.
    const t2 = new Date().toISOString();
    const r3 = await a.poster.post('/agent/v1/inventory', { agentId: a.client.agentId, inventory: inventory(t2, [upgrade('libssl3', '1.2', true)]) });
    assert.equal(r3.body.inventory.findings.remediated, [{ key: 'patch:libssl3:1.1', reason: 'superseded' }]);
    const after = await s.f.call('GET', `${base}/findings?product=patch&waitFor=${r3.body.consistencyToken}&limit=200`);
    const states = after.body.items
      .map((x: { agentId: string; key: string; state: string }) => [x.agentId === a.client.agentId ? 'a' : 'b', x.key, x.state])
      .sort();
    assert.equal(states, [
      ['a', 'patch:libssl3:1.1', 'remediated'],
      ['a', 'patch:libssl3:1.2', 'open'],
      ['b', 'patch:libssl3:1.1', 'open'],
    ]);
    const curl = await s.f.call('GET', `${base}/patches/packages?security=no`);
    assert.equal(curl.body.items, [], 'curl is pending nowhere any more');
    const summary = await s.f.call('GET', `${base}/patches`);
    assert.equal([summary.body.hosts, summary.body.compliant, summary.body.needingReboot, summary.body.missingSecurity], [2, 2, 0, 2]);
    // An older inventory arriving late changes nothing.
    const late = await a.poster.post('/agent/v1/inventory', { agentId: a.client.agentId, inventory: inventory(t1, []) });
    assert.is(late.body.inventory.recorded, false);
  } finally {
    a.close();
    b.close();
  }
});

test("refused: the product off, a job for another agent's command or for another action", async () => {
  const tenant = freshTenant('pr');
  const { enrollSecret } = await s.f.tenant(tenant, ['patch']);
  const a = await enrolled(s, enrollSecret, 'a');
  const b = await enrolled(s, enrollSecret, 'b');
  const off = freshTenant('po');
  const offAgent = await enrolled(s, (await s.f.tenant(off, ['edr'])).enrollSecret, 'c');
  try {
    const inv = inventory(new Date().toISOString(), []);
    const disabled = await offAgent.poster.post('/agent/v1/inventory', { agentId: offAgent.client.agentId, inventory: inv });
    assert.is(disabled.status, 403);
    assert.is(disabled.body.error.code, 'STK_ERR_PRODUCT_DISABLED');
    const dispatch = async (agentId: string, action: string, args: Record<string, unknown>) => {
      const id = newId();
      await execute(
        s.f.stk.runtime.log,
        { tenant, id },
        agentCommandDecider,
        { kind: 'dispatch', command: { agentId, action, args }, context: ANY_CONTEXT },
        {
          actor: { kind: 'operator', id: 't' },
          known: 'new',
        },
      );
      return id;
    };
    const job = (commandId: string) => ({
      commandId,
      mode: 'security',
      dryRun: true,
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      listsRefreshed: true,
      succeeded: true,
      rebootRequired: false,
      results: [],
    });
    const theirs = await dispatch(b.client.agentId, 'install-patches', { mode: 'security', dryRun: true });
    const ping = await dispatch(a.client.agentId, 'ping', {});
    for (const id of [theirs, ping]) {
      const r = await a.poster.post('/agent/v1/inventory', { agentId: a.client.agentId, job: job(id) });
      assert.is(r.status, 404, JSON.stringify(r.body));
    }
    const mine = await dispatch(a.client.agentId, 'install-patches', { mode: 'security', dryRun: true });
    assert.is((await a.poster.post('/agent/v1/inventory', { agentId: a.client.agentId, job: job(mine) })).status, 202);
    const other = await a.poster.post('/agent/v1/inventory', { agentId: a.client.agentId, job: { ...job(mine), succeeded: false } });
    assert.is(other.status, 409);
    assert.is(other.body.error.code, 'STK_ERR_INVALID_TRANSITION');
    const empty = await a.poster.post('/agent/v1/inventory', { agentId: a.client.agentId });
    assert.is(empty.status, 400);
  } finally {
    a.close();
    b.close();
    offAgent.close();
  }
});

test.run();
