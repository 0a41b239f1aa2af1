import { randomBytes } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { agentConfigDecider } from '../../commands/agent-config/decider.ts';
import { agentCommandDecider } from '../../commands/agent-commands/decider.ts';
import { alertDecider } from '../../commands/alerts/decider.ts';
import { deliveryDecider } from '../../commands/deliveries/decider.ts';
import { detectionDecider } from '../../commands/detection/decider.ts';
import { DETECTION_SETTINGS_ID } from '../../commands/detection/events.ts';
import { channelsDecider } from '../../commands/notify/decider.ts';
import { CHANNELS_ID } from '../../commands/notify/events.ts';
import { evidenceDecider } from '../../commands/evidence/decider.ts';
import { findingDecider } from '../../commands/findings/decider.ts';
import { incidentDecider } from '../../commands/incidents/decider.ts';
import { machineDecider } from '../../commands/machines/decider.ts';
import { scanDecider } from '../../commands/scans/decider.ts';
import { tokenDecider } from '../../commands/tokens/decider.ts';
import { accessDecider } from '../../commands/access/decider.ts';
import { approvalDecider } from '../../commands/approvals/decider.ts';
import { tenantPolicyDecider } from '../../commands/settings/decider.ts';
import { asmSettingsDecider } from '../../commands/attack-surface/decider.ts';
import { patchSettingsDecider } from '../../commands/patch/decider.ts';
import { recordInventory, recordJob } from '../../src/patch/ingest.ts';
import { packagesStreamSpec } from '../../src/patch/packages.ts';
import { INSTALL_ONLY_COLLECTIONS } from '../../src/people/install.ts';
import { execute } from '../../src/domain/execute.ts';
import { newId } from '../../src/ids.ts';
import type { EventLog } from '../../src/log/mod.ts';
import { encodeCursor, pad } from '../../src/store/keys.ts';
import type { ReadStore } from '../../src/store/store.ts';
import { rejects } from '../helpers/assert.ts';
import { AGENT_ACTOR, ANY_CONTEXT, createTenant, enrollAgent, freshTenant, raiseAlert, reportFinding } from '../helpers/events.ts';
import { readModelFixture } from '../helpers/readmodels.ts';

const test = suite('isolation: the store layer');
const OP = { actor: { kind: 'operator' as const, id: 'op' } };

/** A tenant with one item in every collection, written as the ingress and the API write them. */
async function populate(log: EventLog, tenant: string): Promise<{ agentId: string; alertId: string; last: number }> {
  await createTenant(log, tenant, ['edr', 'patch', 'attack-surface']);
  const { agentId } = await enrollAgent(log, tenant);
  const { alertId } = await raiseAlert(log, tenant, agentId);
  await reportFinding(log, tenant, agentId);
  await execute(
    log,
    { tenant: tenant, id: newId() },
    scanDecider,
    {
      kind: 'record',
      scan: {
        agentId,
        product: 'attack-surface',
        merkleRoot: 'b'.repeat(64),
        itemCount: 1,
        startedAt: 'x',
        finishedAt: 'y',
        services: [{ protocol: 'tcp', address: '0.0.0.0', port: 22, pid: 1, exe: '/usr/sbin/sshd', name: 'sshd', user: 'root' }],
      },
    },
    { actor: AGENT_ACTOR(agentId), known: 'new' },
  );
  // Attack-surface and patch settings, a host's inventory with a pending update, and a patch job.
  await execute(log, { tenant, id: tenant }, asmSettingsDecider, { kind: 'set', values: { targets: ['192.0.2.0/28'] } }, OP);
  await execute(log, { tenant, id: tenant }, patchSettingsDecider, { kind: 'set', values: { thresholdDays: 7 } }, OP);
  await log.streams.ensureStream(packagesStreamSpec());
  await recordInventory(
    log,
    { tenant, agentId },
    {
      kind: 'patch-inventory',
      takenAt: '2026-01-01T00:00:00.000Z',
      os: null,
      packages: [{ name: 'openssl', version: '1', architecture: 'amd64', source: 'openssl', sourceVersion: '1', status: 'installed', held: false }],
      upgrades: [{ package: 'openssl', architecture: 'amd64', from: '1', to: '2', security: true, releases: [], publishedBy: null, keptBack: false, cves: [] }],
      newInstalls: [],
      removals: [],
      reboot: { required: false, packages: [] },
      listsRefreshed: true,
      warnings: [],
    },
    { now: new Date('2026-01-02T00:00:00.000Z') },
  );
  const jobId = newId();
  await execute(
    log,
    { tenant, id: jobId },
    agentCommandDecider,
    { kind: 'dispatch', command: { agentId, action: 'install-patches', args: { mode: 'security', dryRun: true } }, context: ANY_CONTEXT },
    { ...OP, known: 'new' },
  );
  await recordJob(log, { tenant, agentId }, jobId, {
    mode: 'security',
    dryRun: true,
    startedAt: 'x',
    finishedAt: 'y',
    listsRefreshed: true,
    succeeded: true,
    rebootRequired: false,
    results: [],
  });
  await execute(
    log,
    { tenant: tenant, id: newId() },
    evidenceDecider,
    { kind: 'collect', evidence: { agentId, name: 'x', sha256: 'c'.repeat(64), sizeBytes: 1, collectedAt: 'x' } },
    { actor: AGENT_ACTOR(agentId), known: 'new' },
  );
  await execute(
    log,
    { tenant: tenant, id: newId() },
    agentCommandDecider,
    { kind: 'dispatch', command: { agentId, action: 'ping', args: {} }, context: ANY_CONTEXT },
    { ...OP, known: 'new' },
  );
  // An isolation command not answered yet (hosts keeps it until its result), and an agent's own
  // collection settings (the tenant's own are under the well-known id `tenant` in every tenant).
  await execute(
    log,
    { tenant: tenant, id: newId() },
    agentCommandDecider,
    { kind: 'dispatch', command: { agentId, action: 'isolate-host', args: {} }, context: ANY_CONTEXT },
    { ...OP, known: 'new' },
  );
  await execute(log, { tenant, id: agentId }, agentConfigDecider, { kind: 'set', set: { scope: 'agent', agentId, settings: { commandPollMs: 1000 } } }, OP);
  await execute(
    log,
    { tenant: tenant, id: newId() },
    tokenDecider,
    { kind: 'create', token: { role: 'operator', label: '', lookup: newId().slice(0, 12), hash: 'd'.repeat(64) } },
    { ...OP, known: 'new' },
  );
  await execute(log, { tenant, id: DETECTION_SETTINGS_ID }, detectionDecider, { kind: 'configure', ruleId: 'r', setting: { level: 'low' } }, OP);
  const channelId = newId();
  await execute(
    log,
    { tenant, id: CHANNELS_ID },
    channelsDecider,
    {
      kind: 'save',
      create: true,
      channel: {
        id: channelId,
        tenant,
        name: 'c',
        enabled: true,
        routing: { minSeverity: 'low', quietHours: null, thresholds: [1] },
        kind: 'chat',
        settings: { host: 'h' },
        sealed: 's',
      },
    },
    OP,
  );
  await execute(
    log,
    { tenant, id: newId() },
    deliveryDecider,
    {
      kind: 'queue',
      delivery: {
        alertId,
        channelId,
        channelKind: 'chat',
        channelName: 'c',
        recipients: ['h'],
        group: { tenant, alertId, ruleId: 'r', ruleVersion: 'v', title: 't', severity: 'low', attack: [], host: 'h', count: 1, firstSeen: 'x', lastSeen: 'x' },
        notifiedCount: 0,
      },
    },
    { ...OP, known: 'new' },
  );
  // The people side of a customer: a role grant, a four-eyes request, its policy.
  await execute(log, { tenant, id: newId() }, accessDecider, { kind: 'set', roles: ['customer-analyst'], source: 'manual', scope: 'tenant' }, OP);
  await execute(log, { tenant, id: tenant }, tenantPolicyDecider, { kind: 'set', values: { fourEyes: ['isolate-host'] } }, OP);
  await execute(
    log,
    { tenant, id: newId() },
    approvalDecider,
    {
      kind: 'request',
      request: {
        gate: 'isolate-host',
        action: { kind: 'dispatch', agentId, action: 'isolate-host', args: {} },
        requester: { actorId: 'user:x', userId: 'x' },
        expiresAt: '2030-01-01T00:00:00.000Z',
      },
    },
    { ...OP, known: 'new' },
  );
  await execute(log, { tenant, id: randomBytes(32).toString('hex') }, machineDecider, { kind: 'block', agentId }, { ...OP, known: 'new' });
  const r = await execute(
    log,
    { tenant: tenant, id: newId() },
    incidentDecider,
    { kind: 'open', incident: { title: 't', severity: 'low', alertIds: [alertId] } },
    { ...OP, known: 'new' },
  );
  return { agentId, alertId, last: r.position };
}

async function tenantDump(store: ReadStore, tenant: string): Promise<Array<[string, unknown]>> {
  const out: Array<[string, unknown]> = [];
  for (const p of store.projections) {
    for await (const [k, v] of store.tenantSub(p.model, store.activeGen(p.model), tenant).iterator()) out.push([`${p.model}/${k}`, v]);
  }
  return out;
}

test('two tenants, every collection and every read method: nothing of B is reachable through A', async () => {
  const f = await readModelFixture();
  try {
    const a = freshTenant('a');
    const b = freshTenant('b');
    const A = await populate(f.log, a);
    const B = await populate(f.log, b);
    assert.ok(await f.projector.waitFor(Math.max(A.last, B.last), 5000));
    const s = f.projector.store;
    let checked = 0;
    for (const p of s.projections) {
      for (const [collection, spec] of Object.entries(p.collections)) {
        // Users live in the install tenant only; test/people/install-tenant.test.ts walls that one off.
        if (INSTALL_ONLY_COLLECTIONS.includes(collection)) continue;
        const bDocs = (await s.forTenant(b).list(collection, { limit: 200 })).items;
        const aDocs = (await s.forTenant(a).list(collection, { limit: 200 })).items;
        const bIds = bDocs.map((d) => d.id);
        const same = (x: object, y: object) => JSON.stringify(x) === JSON.stringify(y);
        assert.ok(bIds.length > 0 && aDocs.length > 0, `${collection} has items in both tenants`);
        for (const d of bDocs) {
          // Per-tenant aggregates (hourly buckets) have the same ids in every tenant by design: through
          // A, such an id is A's own document, never B's.
          const own = aDocs.find((x) => x.id === d.id) ?? null;
          const seen = await s.forTenant(a).get(collection, d.id);
          if (own) assert.ok(seen && same(seen, own) && !same(seen, d), `get(${collection}) of a shared id through A is A's own`);
          else assert.is(seen, null, `get(${collection}) of B's id through A`);
          assert.equal(await s.forTenant(a).getMany(collection, [d.id]), [own], `getMany(${collection}) of B's id through A`);
          assert.ok(await s.forTenant(b).get(collection, d.id));
          checked++;
        }
        assert.not.ok(
          aDocs.some((x) => bDocs.some((y) => same(x, y))),
          `list(${collection}) of A shows none of B`,
        );
        const queried = await s.forTenant(a).query(collection, { limit: 200 });
        assert.not.ok(
          queried.items.some((x) => bDocs.some((y) => same(x, y))),
          `query(${collection}) of A shows none of B`,
        );
        assert.is(queried.total, aDocs.length, `query(${collection}) counts A's documents only`);
        for (const field of spec.indexes) {
          const bDoc = (await s.forTenant(b).get(collection, bIds[0]!))!;
          if (bDoc[field] === undefined || bDoc[field] === null) continue;
          const value = String(bDoc[field]);
          const inA = await s.forTenant(a).list(collection, { filter: { [field]: value } });
          assert.not.ok(
            inA.items.some((d) => bIds.includes(d.id)),
            `list(${collection}, ${field}) of A`,
          );
          const total = await s.forTenant(a).count(collection, { field, value });
          assert.is(total, inA.items.length, `count(${collection}, ${field}) agrees with the list`);
          const q = await s.forTenant(a).query(collection, { filter: { [field]: value } });
          assert.not.ok(
            q.items.some((d) => bIds.includes(d.id)),
            `query(${collection}, ${field}) of A`,
          );
          assert.is(q.total, total, `query(${collection}, ${field}) totals what count counts`);
        }
        // A cursor is a position, never a tenant: B's sort key used on A pages through A only.
        const forged = encodeCursor(`${pad(Number.MAX_SAFE_INTEGER)}!${bIds[0]}`);
        const page = await s.forTenant(a).list(collection, { cursor: forged });
        assert.not.ok(page.items.some((x) => bDocs.some((y) => same(x, y))));
        const forgedQuery = Buffer.from(`created:${pad(Number.MAX_SAFE_INTEGER)}!${bIds[0]}`).toString('base64url');
        const qpage = await s.forTenant(a).query(collection, { cursor: forgedQuery });
        assert.not.ok(qpage.items.some((x) => bDocs.some((y) => same(x, y))));
      }
    }
    assert.ok(checked >= 10);
    // Ids that could step out of a tenant's key range are refused, not interpreted.
    await rejects((async () => s.forTenant('a!b').get('alerts', A.alertId))(), 'STK_ERR_INVALID_ID');
    await rejects((async () => s.forTenant(`${a}!`).get('alerts', A.alertId))(), 'STK_ERR_INVALID_ID');
    await rejects(s.forTenant(a).get('alerts', `x!d!${B.alertId}`), 'STK_ERR_INVALID_ID');
    await rejects(s.forTenant(a).list('alerts', { cursor: Buffer.from(`0!${b}!x`).toString('base64url') }), 'STK_ERR_VALIDATION');
    await rejects(s.forTenant(a).list('alerts', { filter: { title: 'x' } }), 'STK_ERR_VALIDATION');
  } finally {
    await f.cleanup();
  }
});

test("writes: events of A that name B's ids change nothing of B", async () => {
  const f = await readModelFixture();
  try {
    const a = freshTenant('a');
    const b = freshTenant('b');
    const A = await populate(f.log, a);
    const B = await populate(f.log, b);
    assert.ok(await f.projector.waitFor(Math.max(A.last, B.last), 5000));
    const s = f.projector.store;
    const before = await tenantDump(s, b);
    // Even if a bug let these through the API, the projection reads and writes only A's keyspace.
    await execute(
      f.log,
      { tenant: a, id: newId() },
      incidentDecider,
      { kind: 'open', incident: { title: 't', severity: 'low', alertIds: [B.alertId] } },
      { ...OP, known: 'new' },
    );
    await execute(
      f.log,
      { tenant: a, id: newId() },
      agentCommandDecider,
      { kind: 'dispatch', command: { agentId: B.agentId, action: 'ping', args: {} }, context: ANY_CONTEXT },
      { ...OP, known: 'new' },
    );
    // The same aggregate id in A is another aggregate: the decider sees no alert there.
    await rejects(execute(f.log, { tenant: a, id: B.alertId }, alertDecider, { kind: 'acknowledge' }, OP), 'STK_ERR_NOT_FOUND');
    await rejects(execute(f.log, { tenant: a, id: B.agentId }, findingDecider, { kind: 'triage', state: 'remediated', reason: 'x' }, OP), 'STK_ERR_NOT_FOUND');
    const last = await f.log.lastPosition();
    assert.ok(await f.projector.waitFor(last, 5000));
    assert.equal(await tenantDump(s, b), before);
    assert.is(await s.forTenant(a).get('alerts', B.alertId), null);
  } finally {
    await f.cleanup();
  }
});

test.run();
