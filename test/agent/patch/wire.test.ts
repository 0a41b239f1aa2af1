/**
 * The patch product's wire schemas, checked by fastify's own Ajv set-up (as the ingress and the
 * operator API check bodies), side by side with the agent's own validation; and the bounded
 * command result of install-patches.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  commandResultOf,
  installPatchesArgsSchema,
  maintenanceWindowSchema,
  patchInventorySchema,
  validateInstallArgs,
  validateWindow,
  type InstallPatchesResult,
  type PackageResult,
  type PatchInventory,
} from '../../../src/agent/patch/mod.ts';

const test = suite('patch: wire schemas and command results');
let app: FastifyInstance;

test.before(async () => {
  app = Fastify({ ajv: { customOptions: { removeAdditional: false, allErrors: false, coerceTypes: false } } });
  app.post('/args', { schema: { body: installPatchesArgsSchema } }, async () => ({ ok: true }));
  app.post('/window', { schema: { body: maintenanceWindowSchema } }, async () => ({ ok: true }));
  app.post('/inventory', { schema: { body: patchInventorySchema } }, async () => ({ ok: true }));
  await app.ready();
});
test.after(async () => {
  await app?.close();
});

const accepted = async (url: string, payload: unknown): Promise<boolean> =>
  (await app.inject({ method: 'POST', url, payload: payload as object })).statusCode === 200;
function agentAccepts(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
}

test('install-patches arguments: the schema and the agent agree on every case', async () => {
  const cases: Array<[unknown, boolean]> = [
    [{ mode: 'security', dryRun: true }, true],
    [{ mode: 'packages', packages: ['openssl', 'libc6:i386', 'g++'], dryRun: false }, true],
    [{ mode: 'security', packages: ['openssl'], dryRun: true }, false],
    [{ mode: 'packages', dryRun: true }, false],
    [{ mode: 'packages', packages: [], dryRun: true }, false],
    [{ mode: 'packages', packages: ['foo;rm -rf /'], dryRun: true }, false],
    [{ mode: 'packages', packages: ['../x'], dryRun: true }, false],
    [{ mode: 'packages', packages: ['-o'], dryRun: true }, false],
    [{ mode: 'security', dryRun: 'yes' }, false],
    [{ mode: 'security' }, false],
    [{ mode: 'all', dryRun: true }, false],
    [{ mode: 'security', dryRun: true, force: true }, false],
    [{ mode: 'packages', packages: Array.from({ length: 501 }, (_, i) => `p${i}`), dryRun: true }, false],
  ];
  for (const [args, ok] of cases) {
    assert.is(await accepted('/args', args), ok, `schema: ${JSON.stringify(args).slice(0, 80)}`);
    assert.is(
      agentAccepts(() => validateInstallArgs(args)),
      ok,
      `agent: ${JSON.stringify(args).slice(0, 80)}`,
    );
  }
});

test('maintenance windows: the schema and validateWindow agree on the shape', async () => {
  const base = { days: ['sat'], start: '02:00', end: '05:00', timeZone: 'Europe/Berlin' };
  const cases: Array<[unknown, boolean]> = [
    [base, true],
    [{ ...base, end: '24:00' }, true],
    [{ ...base, days: [] }, false],
    [{ ...base, days: ['saturday'] }, false],
    [{ ...base, start: '24:00' }, false],
    [{ ...base, start: '7:00' }, false],
    [{ ...base, timeZone: 'Europe/Berlin; rm' }, false],
    [{ ...base, extra: 1 }, false],
  ];
  for (const [w, ok] of cases) {
    assert.is(await accepted('/window', w), ok, `schema: ${JSON.stringify(w)}`);
    // validateWindow ignores unknown keys (it returns the normalised window); the schema refuses them.
    if (!(w as Record<string, unknown>).extra)
      assert.is(
        agentAccepts(() => validateWindow(w)),
        ok,
        `agent: ${JSON.stringify(w)}`,
      );
  }
});

function inventory(): PatchInventory {
  return {
    kind: 'patch-inventory',
    takenAt: '2026-02-01T00:00:00.000Z',
    os: { id: 'debian', versionId: '12', codename: 'bookworm', prettyName: 'Debian GNU/Linux 12 (bookworm)' },
    packages: [
      {
        name: 'openssl',
        version: '3.0.11-1~deb12u2',
        architecture: 'amd64',
        source: 'openssl',
        sourceVersion: '3.0.11-1~deb12u2',
        status: 'installed',
        held: false,
      },
    ],
    upgrades: [
      {
        package: 'openssl',
        architecture: 'amd64',
        from: '3.0.11-1~deb12u2',
        to: '3.0.15-1~deb12u1',
        security: true,
        releases: [
          {
            origin: 'Debian',
            label: 'Debian-Security',
            suite: 'stable-security',
            codename: 'bookworm-security',
            site: 'http://deb.debian.org/debian-security',
            component: 'main',
            trusted: true,
            date: '2026-01-30T10:00:00.000Z',
          },
        ],
        publishedBy: '2026-01-30T10:00:00.000Z',
        keptBack: false,
        cves: ['CVE-2024-5535'],
      },
    ],
    newInstalls: [],
    removals: [],
    reboot: { required: true, packages: ['linux-image-6.1.0-13-amd64'] },
    listsRefreshed: true,
    warnings: [],
  };
}

test('inventory schema: a real-shaped inventory passes, injected names and extra fields do not', async () => {
  assert.ok(await accepted('/inventory', inventory()));
  const bad = [
    (i: PatchInventory) => (i.packages[0]!.name = 'openssl;reboot'),
    (i: PatchInventory) => (i.upgrades[0]!.to = '1.0 && x'),
    (i: PatchInventory) => (i.upgrades[0]!.cves = ['CVE-24-1']),
    (i: PatchInventory) => ((i as unknown as Record<string, unknown>).secret = 'x'),
    (i: PatchInventory) => ((i as { kind: string }).kind = 'process'),
  ];
  for (const mutate of bad) {
    const inv = inventory();
    mutate(inv);
    assert.not.ok(await accepted('/inventory', inv), mutate.toString());
  }
});

function result(n: number, outputBytes: number, succeeded = true): InstallPatchesResult {
  const results: PackageResult[] = Array.from({ length: n }, (_, i) => ({
    package: `package-with-a-long-name-${i}`,
    from: '1.0-1',
    target: '1.1-1',
    to: '1.1-1',
    outcome: 'upgraded',
    exitCode: 0,
    output: `${'Reading package lists... "quoted" \\ back\n'.repeat(Math.ceil(outputBytes / 40)).slice(0, outputBytes - 20)}END-OF-OUTPUT-${i}`,
    outputTruncated: false,
    alsoChanged: [],
  }));
  return {
    mode: 'packages',
    dryRun: false,
    startedAt: '2026-02-01T00:00:00.000Z',
    finishedAt: '2026-02-01T00:01:00.000Z',
    listsRefreshed: true,
    results,
    succeeded,
    rebootRequired: false,
    inventory: inventory(),
  };
}

test('command result: fits the budget, keeps each output’s tail, leaves the inventory out', () => {
  const r = commandResultOf(result(3, 100_000), 96 * 1024);
  assert.is(r.outcome, 'succeeded');
  assert.ok(Buffer.byteLength(r.output) <= 96 * 1024, `${Buffer.byteLength(r.output)} bytes`);
  const parsed = JSON.parse(r.output);
  assert.is(parsed.inventory, undefined);
  assert.is(parsed.results.length, 3);
  parsed.results.forEach((p: PackageResult, i: number) => {
    assert.ok(p.output.endsWith(`END-OF-OUTPUT-${i}`));
    assert.ok(p.output.length > 10_000, 'each output keeps a fair share');
    assert.is(p.outputTruncated, true);
  });
  // Small outputs are kept whole.
  const small = JSON.parse(commandResultOf(result(2, 500, false)).output);
  assert.is(commandResultOf(result(2, 500, false)).outcome, 'failed');
  assert.is(small.results[0].output.length, 500 - 20 + 'END-OF-OUTPUT-0'.length);
  assert.is(small.results[0].outputTruncated, false);
  // So many packages that even bare lines overflow: the list is cut and says by how many.
  const many = commandResultOf(result(500, 100), 16 * 1024);
  assert.ok(Buffer.byteLength(many.output) <= 16 * 1024);
  const m = JSON.parse(many.output);
  assert.ok(m.resultsOmitted > 0 && m.results.length + m.resultsOmitted === 500);
});

test.run();
