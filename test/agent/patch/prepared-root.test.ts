/**
 * The patch agent against real dpkg and apt: packages built with dpkg-deb, served from local
 * `file:` repositories made with apt-ftparchive, installed into prepared roots in a temp folder.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Fastify from 'fastify';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  diffPatchFindings,
  hostCompliance,
  installPatches,
  openHostRoot,
  patchFindings,
  patchInventorySchema,
  takeInventory,
  trackAvailability,
  type PatchInventory,
} from '../../../src/agent/patch/mod.ts';
import { rejects } from '../../helpers/assert.ts';
import { dpkgHold, patchRepoFixture, type PatchRepoFixture } from '../../helpers/debrepo.ts';
import { tempDir } from '../../helpers/nats.ts';

const run = promisify(execFile);
const test = suite('patch: inventory and install-patches on a prepared root');
const DAY = 86_400_000;

let tmp: { path: string; cleanup(): Promise<void> };
let fx: PatchRepoFixture;

test.before(async () => {
  tmp = await tempDir('stk-patch-');
  fx = await patchRepoFixture(tmp.path);
});
test.after(async () => {
  await tmp?.cleanup();
});

const statusOf = (root: string): Promise<string> => readFile(join(root, 'var/lib/dpkg/status'), 'utf8');
function versionIn(status: string, pkg: string): string | undefined {
  const stanza = status.split('\n\n').find((s) => s.startsWith(`Package: ${pkg}\n`));
  return /^Version: (.+)$/m.exec(stanza ?? '')?.[1];
}
const upgradeOf = (inv: PatchInventory, pkg: string) => inv.upgrades.find((u) => u.package === pkg);

test('inventory: installed packages with their source, pending upgrades with origin, CVE ids and kept-back state', async () => {
  const root = await fx.freshRoot();
  const cveCache = new Map<string, string[]>();
  const inv = await takeInventory({ root, cveCache, now: () => new Date('2026-02-01T00:00:00Z') });
  assert.is(inv.kind, 'patch-inventory');
  assert.is(inv.takenAt, '2026-02-01T00:00:00.000Z');
  assert.is(inv.listsRefreshed, true);
  assert.equal(inv.warnings, []);
  assert.equal(
    inv.packages.map((p) => [p.name, p.version, p.architecture, p.source, p.status]),
    [
      ['stk-broken', '1.0', 'all', 'stk-broken', 'installed'],
      ['stk-demo', '1.0', 'all', 'stk-demo-src', 'installed'],
      ['stk-other', '1.0', 'all', 'stk-other', 'installed'],
    ],
  );

  const demo = upgradeOf(inv, 'stk-demo')!;
  assert.equal([demo.from, demo.to, demo.security, demo.keptBack], ['1.0', '1.1', true, false]);
  assert.equal(
    demo.releases.map((r) => [r.label, r.suite, r.codename, r.trusted]),
    [['Debian-Security', 'stable-security', 'bookworm-security', true]],
  );
  // The 1.1 changelog entry's CVEs, not the one the installed 1.0 entry already names.
  assert.equal(demo.cves, ['CVE-2024-12345', 'CVE-2024-23456']);
  const releaseDate = /^Date: (.+)$/m.exec(await readFile(join(tmp.path, 'repo-security/Release'), 'utf8'))![1]!;
  assert.is(demo.publishedBy, new Date(releaseDate).toISOString());

  const other = upgradeOf(inv, 'stk-other')!;
  assert.equal([other.from, other.to, other.security, other.keptBack], ['1.0', '1.1', false, false]);
  assert.equal(other.releases[0]?.suite, 'stable');
  assert.equal(other.cves, ['CVE-2023-9999']); // from its Packages stanza
  const broken = upgradeOf(inv, 'stk-broken')!;
  assert.equal([broken.from, broken.to, broken.security, broken.keptBack], ['1.0', '1.1', false, true]);
  assert.is(inv.upgrades.length, 3);
  assert.equal(inv.reboot, { required: false, packages: [] });
  assert.equal(cveCache.get('stk-demo=1.1'), ['CVE-2024-12345', 'CVE-2024-23456']);
  // What the agent produces is what the wire schema accepts.
  const app = Fastify();
  try {
    app.post('/inventory', { schema: { body: patchInventorySchema } }, async () => ({ ok: true }));
    const res = await app.inject({ method: 'POST', url: '/inventory', payload: inv });
    assert.is(res.statusCode, 200, res.body);
  } finally {
    await app.close();
  }
});

test('a failed refresh and a .deb above the size bound are reported as warnings, not thrown', async () => {
  const root = await fx.freshRoot();
  await writeFile(join(root, 'etc/apt/sources.list'), `${fx.sources.join('\n')}\ndeb [trusted=yes] file:${join(tmp.path, 'no-such-repo')} ./\n`);
  const inv = await takeInventory({ root, maxDebBytes: 10 });
  assert.is(inv.listsRefreshed, false);
  assert.match(inv.warnings.join('\n'), /apt-get update failed/);
  assert.match(inv.warnings.join('\n'), /stk-demo=1\.1 is \d+ bytes, above 10: changelog not read/);
  // The repositories that answered still give the upgrades.
  assert.equal(upgradeOf(inv, 'stk-demo')?.to, '1.1');
  assert.equal(upgradeOf(inv, 'stk-demo')?.cves, []);
});

test('compliance counts the missing security update by age and raises one finding', async () => {
  const root = await fx.freshRoot();
  const inv = await takeInventory({ root, cve: 'off' });
  const state = trackAvailability(undefined, inv);
  const fresh = hostCompliance(inv, state, new Date(inv.takenAt));
  assert.equal(
    fresh.missingSecurity.map((m) => [m.package, m.from, m.to, m.ageDays, m.overThreshold]),
    [['stk-demo', '1.0', '1.1', 0, false]],
  );
  assert.equal([fresh.overThreshold, fresh.compliant, fresh.pendingTotal], [0, true, 3]);
  const later = hostCompliance(inv, state, new Date(Date.parse(inv.takenAt) + 20 * DAY));
  assert.equal([later.overThreshold, later.compliant, later.missingSecurity[0]?.ageDays], [1, false, 20]);
  const findings = patchFindings(later);
  assert.equal(
    findings.map((f) => [f.dedupKey, f.severity, f.subject]),
    [['patch:stk-demo:1.1', 'high', 'stk-demo']],
  );
});

test('a dry run changes nothing under the root and reports what would be upgraded', async () => {
  const root = await fx.freshRoot();
  const statusBefore = await statusOf(root);
  const infoBefore = (await readdir(join(root, 'var/lib/dpkg/info'))).sort();
  const dpkgLogBefore = await readFile(join(root, 'var/log/dpkg.log'), 'utf8');
  const result = await installPatches({ mode: 'security', dryRun: true }, { root });
  assert.is(result.dryRun, true);
  assert.equal(
    result.results.map((r) => [r.package, r.from, r.target, r.to, r.outcome, r.exitCode]),
    [['stk-demo', '1.0', '1.1', '1.1', 'would-upgrade', 0]],
  );
  assert.match(result.results[0]!.output, /^Inst stk-demo \[1\.0\] \(1\.1 /m);
  assert.is(result.succeeded, true);
  assert.is(result.inventory, null);
  assert.is(await statusOf(root), statusBefore);
  assert.equal((await readdir(join(root, 'var/lib/dpkg/info'))).sort(), infoBefore);
  assert.is(await readFile(join(root, 'var/log/dpkg.log'), 'utf8'), dpkgLogBefore);
  assert.is(await readFile(join(root, 'usr/share/stk-demo/VERSION'), 'utf8'), 'stk-demo 1.0\n');
  const dryPackages = await installPatches({ mode: 'packages', packages: ['stk-other'], dryRun: true }, { root });
  assert.equal(dryPackages.results[0]?.outcome, 'would-upgrade');
  assert.is(await statusOf(root), statusBefore);
});

test('a real security run upgrades only the security update; the next inventory clears its finding', async () => {
  const root = await fx.freshRoot();
  const before = await takeInventory({ root, cve: 'off' });
  const state = trackAvailability(undefined, before);
  const openFindings = patchFindings(hostCompliance(before, state, new Date(before.takenAt)));
  assert.equal(
    openFindings.map((f) => f.dedupKey),
    ['patch:stk-demo:1.1'],
  );

  const result = await installPatches({ mode: 'security', dryRun: false }, { root });
  assert.equal(
    result.results.map((r) => [r.package, r.from, r.target, r.to, r.outcome, r.exitCode]),
    [['stk-demo', '1.0', '1.1', '1.1', 'upgraded', 0]],
  );
  assert.match(result.results[0]!.output, /Setting up stk-demo \(1\.1\)/);
  assert.is(result.succeeded, true);
  const status = await statusOf(root);
  assert.is(versionIn(status, 'stk-demo'), '1.1');
  assert.is(versionIn(status, 'stk-other'), '1.0'); // not a security update
  assert.is(await readFile(join(root, 'usr/share/stk-demo/VERSION'), 'utf8'), 'stk-demo 1.1\n');
  assert.match(await readFile(join(root, 'var/log/dpkg.log'), 'utf8'), /upgrade stk-demo:all 1\.0 1\.1/);

  const after = result.inventory!;
  assert.ok(after, 'a fresh inventory follows a real run');
  assert.is(upgradeOf(after, 'stk-demo'), undefined);
  assert.ok(upgradeOf(after, 'stk-other'));
  const nextFindings = patchFindings(hostCompliance(after, trackAvailability(state, after), new Date(after.takenAt)));
  const diff = diffPatchFindings(openFindings, nextFindings, after);
  assert.equal(
    diff.remediated.map((r) => [r.finding.dedupKey, r.reason]),
    [['patch:stk-demo:1.1', 'installed']],
  );
  assert.equal(diff.opened, []);
});

test('named packages: each gets its own run, exit status and output; failures are values', async () => {
  const root = await fx.freshRoot();
  const result = await installPatches(
    { mode: 'packages', packages: ['stk-other', 'stk-absent', 'stk-broken', 'stk-demo'], dryRun: false },
    { root, maxOutputBytes: 4096 },
  );
  const byName = new Map(result.results.map((r) => [r.package, r]));
  assert.equal(
    result.results.map((r) => r.package),
    ['stk-other', 'stk-absent', 'stk-broken', 'stk-demo'],
  );
  assert.equal([byName.get('stk-other')!.outcome, byName.get('stk-other')!.to, byName.get('stk-other')!.exitCode], ['upgraded', '1.1', 0]);
  assert.equal([byName.get('stk-absent')!.outcome, byName.get('stk-absent')!.exitCode, byName.get('stk-absent')!.output], ['not-installed', null, '']);
  const broken = byName.get('stk-broken')!;
  assert.equal([broken.outcome, broken.from, broken.target, broken.to, broken.exitCode], ['failed', '1.0', '1.1', '1.0', 100]);
  assert.match(broken.output, /stk-broken : Depends: stk-missing/);
  assert.ok(Buffer.byteLength(broken.output) <= 4096);
  assert.equal(byName.get('stk-demo')!.outcome, 'upgraded');
  assert.is(result.succeeded, false);
  const status = await statusOf(root);
  assert.equal(
    ['stk-other', 'stk-demo', 'stk-broken'].map((p) => versionIn(status, p)),
    ['1.1', '1.1', '1.0'],
  );
  const again = await installPatches({ mode: 'packages', packages: ['stk-demo'], dryRun: false }, { root, inventoryAfter: false });
  assert.equal(
    again.results.map((r) => [r.outcome, r.exitCode]),
    [['up-to-date', null]],
  );
});

test('bad package names are refused before any command runs', async () => {
  // A root that does not exist: reaching any command would fail with STK_ERR_PATCH_ROOT_INVALID first.
  for (const bad of ['foo;rm -rf /', '../x', '-o', '--force-all', 'a', 'Foo', 'x y', '$(id)', 'foo`id`', 'stk-demo\n']) {
    await rejects(installPatches({ mode: 'packages', packages: [bad], dryRun: false }, { root: '/nonexistent-stk-root' }), 'STK_ERR_PATCH_PACKAGE_INVALID');
  }
  const root = await fx.freshRoot();
  const listsBefore = await stat(join(root, 'var/lib/apt/lists')).catch(() => null);
  const statusBefore = await statusOf(root);
  const err = await rejects(
    installPatches({ mode: 'packages', packages: ['stk-demo', 'foo;rm -rf /'], dryRun: false }, { root }),
    'STK_ERR_PATCH_PACKAGE_INVALID',
  );
  assert.is(err.data.package, 'foo;rm -rf /');
  assert.is(await statusOf(root), statusBefore);
  // No apt-get update ran either: the lists folder is as the fixture left it.
  assert.equal((await stat(join(root, 'var/lib/apt/lists')).catch(() => null))?.mtimeMs, listsBefore?.mtimeMs);
  assert.equal(await readdir(join(root, 'var/log/apt')), []);
  await rejects(installPatches({ mode: 'security', packages: ['stk-demo'], dryRun: false }, { root }), 'STK_ERR_VALIDATION');
  await rejects(installPatches({ mode: 'packages', packages: [], dryRun: false }, { root }), 'STK_ERR_VALIDATION');
  await rejects(installPatches({ mode: 'everything', dryRun: false }, { root }), 'STK_ERR_VALIDATION');
  await rejects(installPatches({ mode: 'security', dryRun: 'no' }, { root }), 'STK_ERR_VALIDATION');
  await rejects(installPatches({ mode: 'security', dryRun: true, extra: 1 }, { root }), 'STK_ERR_VALIDATION');
});

test('a held package is reported kept back, and a named upgrade of it is refused by apt, not forced', async () => {
  const root = await fx.freshRoot();
  await dpkgHold(root, ['stk-other']);
  const inv = await takeInventory({ root, cve: 'off' });
  assert.is(inv.packages.find((p) => p.name === 'stk-other')?.held, true);
  const other = upgradeOf(inv, 'stk-other')!;
  assert.equal([other.from, other.to, other.keptBack], ['1.0', '1.1', true]);
  const result = await installPatches({ mode: 'packages', packages: ['stk-other'], dryRun: false }, { root, inventoryAfter: false });
  assert.equal(
    result.results.map((r) => [r.outcome, r.exitCode, r.to]),
    [['failed', 100, '1.0']],
  );
  assert.match(result.results[0]!.output, /[Hh]eld packages/);
  assert.is(versionIn(await statusOf(root), 'stk-other'), '1.0');
});

test('the reboot flag is read inside the root, following an absolute var/run link to the root’s own /run', async () => {
  const root = await fx.freshRoot();
  await mkdir(join(root, 'run'), { recursive: true });
  await symlink('/run', join(root, 'var/run'));
  await writeFile(join(root, 'run/reboot-required'), '*** System restart required ***\n');
  await writeFile(join(root, 'run/reboot-required.pkgs'), 'stk-kernel-test\nstk-kernel-test\nlibc6\n');
  const inv = await takeInventory({ root, refresh: false, cve: 'off' });
  assert.equal(inv.reboot, { required: true, packages: ['libc6', 'stk-kernel-test'] });
  const c = hostCompliance(inv, undefined, new Date(inv.takenAt));
  assert.equal([c.rebootRequired, c.compliant], [true, false]);
});

test('host roots that are not dpkg roots, or unsafe in an apt configuration, are refused', async () => {
  await rejects(openHostRoot('relative/root'), 'STK_ERR_PATCH_ROOT_INVALID');
  await rejects(openHostRoot(join(tmp.path, 'build')), 'STK_ERR_PATCH_ROOT_INVALID');
  await rejects(openHostRoot('/tmp/x"; Dir::Bin::dpkg "/bin/false'), 'STK_ERR_PATCH_ROOT_INVALID');
  await rejects(takeInventory({ root: '/tmp/with\nnewline' }), 'STK_ERR_PATCH_ROOT_INVALID');
});

test("the machine's own packages and dpkg log were not touched by any of the above", async () => {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's ${field} syntax
  const own = await run('dpkg-query', ['-W', '-f=${Package}\n'], { env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' } });
  assert.not.ok(/^stk-/m.test(own.stdout), 'no stk- package on the machine');
  const log = await readFile('/var/log/dpkg.log', 'utf8').catch(() => '');
  assert.not.ok(/ stk-(demo|other|broken)[: ]/.test(log), "the machine's dpkg.log has no stk- entry");
  const history = await readFile('/var/log/apt/history.log', 'utf8').catch(() => '');
  assert.not.ok(history.includes('stk-demo'), "the machine's apt history has no stk- entry");
});

test.run();
