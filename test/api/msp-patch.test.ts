import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { PatchInventory } from '../../src/agent/patch/inventory.ts';
import { recordInventory } from '../../src/patch/ingest.ts';
import { packagesStreamSpec } from '../../src/patch/packages.ts';
import { API_PLUGINS } from '../../src/roles.ts';
import { apiFixture, type ApiFixture } from '../helpers/api.ts';
import { enrollAgent, freshTenant } from '../helpers/events.ts';
import { person, settled } from '../people/helpers.ts';

/**
 * The all-customers overview shows patch compliance (issue 14 review), not a count of open patch
 * findings: per customer, the hosts whose latest inventory is compliant, of the hosts with an
 * inventory, and those waiting for a reboot — as the patches model keeps them per host.
 */
const test = suite('MSP overview: patch compliance per customer');
let f: ApiFixture;
const A = freshTenant('mspa');
const B = freshTenant('mspb');
const DAY = 86_400_000;
const T0 = Date.parse('2026-01-01T00:00:00.000Z');

function inventory(at: number, o: { upgrade?: boolean; reboot?: boolean } = {}): PatchInventory {
  return {
    kind: 'patch-inventory',
    takenAt: new Date(at).toISOString(),
    os: null,
    packages: [{ name: 'openssl', version: '3.0.1', architecture: 'amd64', source: 'openssl', sourceVersion: '3.0.1', status: 'installed', held: false }],
    upgrades: o.upgrade
      ? [{ package: 'openssl', architecture: 'amd64', from: '3.0.1', to: '3.0.2', security: true, releases: [], publishedBy: null, keptBack: false, cves: [] }]
      : [],
    newInstalls: [],
    removals: [],
    reboot: { required: o.reboot ?? false, packages: o.reboot ? ['linux-image-amd64'] : [] },
    listsRefreshed: true,
    warnings: [],
  } as PatchInventory;
}

test.before(async () => {
  f = await apiFixture({ plugins: API_PLUGINS });
  await f.tenant(A, ['patch']);
  await f.tenant(B, ['patch']);
  const log = f.stk.runtime.log;
  await log.streams.ensureStream(packagesStreamSpec());
  const record = async (tenant: string, agentId: string, at: number, o: { upgrade?: boolean; reboot?: boolean }) => {
    const r = await recordInventory(log, { tenant, agentId }, inventory(at, o), { now: new Date(at) });
    assert.ok(r.recorded);
  };
  // A: one host up to date, one waiting for a reboot, one with a security update 30 days overdue.
  const [clean, reboot, overdue] = await Promise.all(['a-clean', 'a-reboot', 'a-overdue'].map(async (h) => (await enrollAgent(log, A, h)).agentId));
  await record(A, clean!, T0, {});
  await record(A, reboot!, T0, { reboot: true });
  await record(A, overdue!, T0, { upgrade: true });
  await record(A, overdue!, T0 + 30 * DAY, { upgrade: true });
  // B: two hosts, both compliant; never shown to A's analyst.
  for (const h of ['b-1', 'b-2']) await record(B, (await enrollAgent(log, B, h)).agentId, T0, {});
  await settled(f);
});

test.after(async () => {
  await f?.cleanup();
});

test("each customer's line carries compliant hosts of hosts and the hosts needing a reboot", async () => {
  const r = await f.call('GET', '/api/v1/overview?sort=tenant');
  assert.is(r.status, 200, JSON.stringify(r.body));
  const a = r.body.items.find((x: { tenant: string }) => x.tenant === A);
  const b = r.body.items.find((x: { tenant: string }) => x.tenant === B);
  assert.equal(a.patch, { hosts: 3, compliant: 1, needingReboot: 1, withOverdueUpdates: 1 });
  assert.equal(b.patch, { hosts: 2, compliant: 2, needingReboot: 0, withOverdueUpdates: 0 });
  // The same figures the customer's own patches summary gives.
  const own = await f.call('GET', `/api/v1/tenants/${A}/patches`);
  assert.is(own.status, 200, JSON.stringify(own.body));
  assert.equal([own.body.hosts, own.body.compliant, own.body.needingReboot], [a.patch.hosts, a.patch.compliant, a.patch.needingReboot]);
});

test("a customer without the patch product has no patch figures; an analyst sees their customer's only", async () => {
  const C = freshTenant('mspc');
  await f.tenant(C, ['edr']);
  const analyst = (await person(f, { tenants: { [A]: ['msp-analyst'], [C]: ['msp-analyst'] } })).token;
  await settled(f);
  const r = await f.call('GET', '/api/v1/overview?sort=tenant', { token: analyst });
  assert.is(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.items.map((x: { tenant: string }) => x.tenant).sort(), [A, C].sort());
  assert.is(r.body.items.find((x: { tenant: string }) => x.tenant === C).patch, undefined);
  assert.equal(r.body.items.find((x: { tenant: string }) => x.tenant === A).patch.hosts, 3);
});

test.run();
