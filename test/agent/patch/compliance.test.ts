import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  diffPatchFindings,
  hostCompliance,
  patchFindings,
  patchKey,
  tenantCompliance,
  trackAvailability,
  type InstalledPackage,
  type PatchInventory,
  type PendingUpgrade,
} from '../../../src/agent/patch/mod.ts';

const test = suite('patch: compliance and findings (pure)');
const DAY = 86_400_000;
const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();

function upgrade(pkg: string, from: string, to: string, o: Partial<PendingUpgrade> = {}): PendingUpgrade {
  return { package: pkg, architecture: 'amd64', from, to, security: true, releases: [], publishedBy: null, keptBack: false, cves: [], ...o };
}
function pkg(name: string, version: string): InstalledPackage {
  return { name, version, architecture: 'amd64', source: name, sourceVersion: version, status: 'installed', held: false };
}
function inventory(at: number, upgrades: PendingUpgrade[], packages: InstalledPackage[] = [], reboot = false): PatchInventory {
  return {
    kind: 'patch-inventory',
    takenAt: iso(at),
    os: null,
    packages,
    upgrades,
    newInstalls: [],
    removals: [],
    reboot: { required: reboot, packages: reboot ? ['linux-image-amd64'] : [] },
    listsRefreshed: true,
    warnings: [],
  };
}

test('availability: the earliest of first seen, inventory time and Release date is kept; gone updates are dropped', () => {
  const inv1 = inventory(T0, [upgrade('openssl', '1', '2'), upgrade('curl', '1', '2', { publishedBy: iso(T0 - 3 * DAY) })]);
  const s1 = trackAvailability(undefined, inv1);
  assert.equal(s1.firstSeen, { 'patch:openssl:2': iso(T0), 'patch:curl:2': iso(T0 - 3 * DAY) });
  // A later inventory with a later Release date (the archive regenerated) keeps the first sighting.
  const inv2 = inventory(T0 + 5 * DAY, [upgrade('openssl', '1', '2', { publishedBy: iso(T0 + 4 * DAY) }), upgrade('zlib', '1', '2')]);
  const s2 = trackAvailability(s1, inv2);
  assert.equal(s2.firstSeen, { 'patch:openssl:2': iso(T0), 'patch:zlib:2': iso(T0 + 5 * DAY) });
});

test('host compliance: ages, the strict threshold, non-security upgrades ignored, reboot makes it non-compliant', () => {
  const inv = inventory(T0 + 20 * DAY, [
    upgrade('openssl', '1', '2', { cves: ['CVE-2024-1'] }),
    upgrade('curl', '1', '2'),
    upgrade('vim', '1', '2', { security: false }),
  ]);
  const state = { firstSeen: { 'patch:openssl:2': iso(T0), 'patch:curl:2': iso(T0 + 6 * DAY) } };
  const c = hostCompliance(inv, state, new Date(T0 + 20 * DAY));
  assert.equal(
    c.missingSecurity.map((m) => [m.key, m.ageDays, m.overThreshold]),
    [
      ['patch:openssl:2', 20, true],
      ['patch:curl:2', 14, false],
    ],
  );
  assert.is(c.overThreshold, 1);
  assert.is(c.oldestAgeDays, 20);
  assert.is(c.pendingTotal, 3);
  assert.is(c.compliant, false);
  // Exactly 14 days is not older than 14 days; one millisecond more is.
  assert.is(hostCompliance(inv, state, new Date(T0 + 20 * DAY + 1)).missingSecurity[1]!.overThreshold, true);
  assert.is(hostCompliance(inv, state, new Date(T0 + 20 * DAY), { thresholdDays: 30 }).overThreshold, 0);
  assert.is(hostCompliance(inv, state, new Date(T0 + 20 * DAY), { thresholdDays: 30 }).compliant, true);
  const rebooting = hostCompliance(inventory(T0, [], [], true), undefined, new Date(T0));
  assert.equal([rebooting.compliant, rebooting.rebootRequired, rebooting.rebootPackages], [false, true, ['linux-image-amd64']]);
});

test('without kept state the age starts at the Release date or the inventory, never later', () => {
  const inv = inventory(T0, [upgrade('openssl', '1', '2', { publishedBy: iso(T0 - 30 * DAY) }), upgrade('curl', '1', '2')]);
  const c = hostCompliance(inv, undefined, new Date(T0));
  assert.equal(
    c.missingSecurity.map((m) => [m.package, m.ageDays, m.availableSince]),
    [
      ['openssl', 30, iso(T0 - 30 * DAY)],
      ['curl', 0, iso(T0)],
    ],
  );
});

test('findings: one per missing security update, keyed patch:<package>:<candidate>, high once overdue', () => {
  const inv = inventory(T0 + 20 * DAY, [upgrade('openssl', '1', '2', { cves: ['CVE-2024-1'] }), upgrade('libc6:i386', '1', '1:2', { architecture: 'i386' })]);
  const f = patchFindings(hostCompliance(inv, { firstSeen: { 'patch:openssl:2': iso(T0) } }, new Date(T0 + 20 * DAY)));
  assert.equal(
    f.map((x) => [x.dedupKey, x.severity, x.subject, x.product]),
    [
      ['patch:openssl:2', 'high', 'openssl', 'patch'],
      ['patch:libc6:i386:1:2', 'medium', 'libc6:i386', 'patch'],
    ],
  );
  assert.match(f[0]!.title, /openssl.*1 → 2.*CVE-2024-1/);
  assert.is(f[0]!.observedAt, iso(T0 + 20 * DAY));
  assert.is(patchKey({ package: 'openssl', to: '2' }), 'patch:openssl:2');
});

test('diffPatchFindings: opened, updated, unchanged, and remediated with the reason', () => {
  const before = inventory(T0, [
    upgrade('openssl', '1', '2'),
    upgrade('curl', '1', '2'),
    upgrade('zlib', '1', '2'),
    upgrade('gone', '1', '2'),
    upgrade('same', '1', '2'),
  ]);
  const s0 = trackAvailability(undefined, before);
  const prev = patchFindings(hostCompliance(before, s0, new Date(T0)));
  // Next: openssl installed, curl replaced by a newer fix, `gone` removed from the host, zlib
  // overdue now, `same` unchanged, a new one for bash.
  const after = inventory(
    T0 + 15 * DAY,
    [upgrade('curl', '1', '3'), upgrade('zlib', '1', '2'), upgrade('same', '1', '2'), upgrade('bash', '1', '2')],
    [pkg('openssl', '2'), pkg('curl', '1'), pkg('zlib', '1'), pkg('same', '1'), pkg('bash', '1')],
  );
  const s1 = trackAvailability(s0, after);
  s1.firstSeen['patch:same:2'] = iso(T0 + 14 * DAY);
  const next = patchFindings(hostCompliance(after, s1, new Date(T0 + 15 * DAY)));
  const d = diffPatchFindings(prev, next, after);
  assert.equal(d.opened.map((f) => f.dedupKey).sort(), ['patch:bash:2', 'patch:curl:3']);
  assert.equal(
    d.updated.map((f) => [f.dedupKey, f.severity]),
    [['patch:zlib:2', 'high']],
  );
  assert.equal(
    d.unchanged.map((f) => f.dedupKey),
    ['patch:same:2'],
  );
  assert.equal(d.remediated.map((r) => [r.finding.dedupKey, r.reason]).sort(), [
    ['patch:curl:2', 'superseded'],
    ['patch:gone:2', 'no-longer-offered'],
    ['patch:openssl:2', 'installed'],
  ]);
});

test('tenant roll-up: counts and packages by hosts affected', () => {
  const now = new Date(T0 + 20 * DAY);
  const old = { firstSeen: { 'patch:openssl:2': iso(T0) } };
  const hosts = {
    a: hostCompliance(inventory(T0, [upgrade('openssl', '1', '2', { cves: ['CVE-1'] }), upgrade('curl', '1', '2')]), old, now),
    b: hostCompliance(inventory(T0 + 20 * DAY, [upgrade('openssl', '1', '2', { cves: ['CVE-2'] })], [], true), undefined, now),
    c: hostCompliance(inventory(T0 + 20 * DAY, []), undefined, now),
  };
  const t = tenantCompliance(hosts);
  assert.equal([t.hosts, t.compliant, t.needingReboot, t.withOverdueUpdates], [3, 1, 1, 1]);
  assert.equal(t.packages, [
    { package: 'openssl', hosts: 2, overdueHosts: 1, cves: ['CVE-1', 'CVE-2'] },
    { package: 'curl', hosts: 1, overdueHosts: 1, cves: [] },
  ]);
});

test.run();
