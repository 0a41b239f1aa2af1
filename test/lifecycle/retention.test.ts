import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { agentDecider } from '../../commands/agents/decider.ts';
import { PrivacyEvents, type DataRemoved, type KeysDestroyed } from '../../commands/privacy/events.ts';
import { execute } from '../../src/domain/execute.ts';
import { newId } from '../../src/ids.ts';
import { EvidenceStore } from '../../src/evidence/store.ts';
import { applyRetention, evidenceTarget, periodEnd, scanItemsTarget, telemetryTarget, tenantStates } from '../../src/lifecycle/retention.ts';
import { runSubject, SCANS_STREAM, scansStreamSpec, scansTenantFilter } from '../../src/scan/runs/stream.ts';
import { aggregateTypeFilter, EventLog } from '../../src/log/mod.ts';
import { ERASED_TEXT } from '../../src/privacy/mod.ts';
import { TELEMETRY_STREAM, telemetryStreamSpec, telemetrySubject } from '../../src/telemetry/stream.ts';
import { AGENT_ACTOR, freshTenant, readToken } from '../helpers/events.ts';
import { lifecycleFixture, type LifecycleFixture } from './fixture.ts';

/**
 * Retention with an injected clock: events written "in January" and "in June" by a log whose clock
 * the test sets, a pass "in July", and what the ledger, the read models and telemetry show.
 */
const test = suite('lifecycle: retention');
let f: LifecycleFixture;
let clock = new Date('2025-01-10T10:00:00.000Z');
let log: EventLog;
const DEFAULTS = { events: 90, evidence: 365, 'scan-items': 180, telemetry: 30 } as const;

test.before(async () => {
  f = await lifecycleFixture();
  // A second log on the same bus and key store whose clock the test sets: what it writes is dated then.
  log = await EventLog.open(f.stk.runtime.streams, { skipEnsureStream: true, fields: f.stk.runtime.privacy!.cipher, now: () => clock });
});
test.after(async () => {
  await f?.cleanup();
});

async function enrollAt(tenant: string, at: string, hostname: string): Promise<string> {
  clock = new Date(at);
  const agentId = newId();
  await execute(
    log,
    { tenant, id: agentId },
    agentDecider,
    { kind: 'enroll', agent: { hostname, os: 'linux', agentVersion: '1', certFingerprint: 'f'.repeat(64), certNotAfter: '2030-01-01T00:00:00.000Z' } },
    { actor: AGENT_ACTOR(agentId), known: 'new' },
  );
  return agentId;
}

test('the months past the cut-off are shredded and recorded once; newer months, longer tenant settings and other tenants are kept', async () => {
  const a = freshTenant('ret');
  const b = freshTenant('ret-long');
  await f.tenant(a);
  await f.tenant(b);
  const set = await f.call('PUT', `/api/v1/tenants/${b}/retention`, { body: { kind: 'events', days: 3650 } });
  assert.is(set.status, 200, JSON.stringify(set.body));
  assert.equal(
    set.body.kinds.find((k: { kind: string }) => k.kind === 'events'),
    { kind: 'events', days: 3650, source: 'tenant' },
  );
  const old = await enrollAt(a, '2025-01-10T10:00:00.000Z', 'january-host');
  const recent = await enrollAt(a, '2025-06-20T10:00:00.000Z', 'june-host');
  const kept = await enrollAt(b, '2025-01-10T10:00:00.000Z', 'january-host');

  // 90 days before 2025-06-01 is 2025-03-03: January ended before it, June did not.
  const now = new Date('2025-06-01T00:00:00.000Z');
  const defaults = { ...DEFAULTS, telemetry: null };
  const tenants = new Map([...(await tenantStates(log))].filter(([t]) => t === a || t === b));
  const first = await applyRetention({ log, keys: f.stk.runtime.privacy!.keys, now, defaults, tenants });
  assert.equal(
    first.destroyed.map((d) => [d.tenant, d.kind, d.periods]),
    [[a, 'events', ['2025-01']]],
  );
  const second = await applyRetention({ log, keys: f.stk.runtime.privacy!.keys, now, defaults, tenants });
  assert.equal(second.destroyed, [], 'nothing left to age out: a second pass records nothing');

  const host = async (id: string, t = a) =>
    ((await log.readAggregate({ tenant: t, aggregateType: 'agent', aggregateId: id })).events[0]!.data as { hostname: string }).hostname;
  assert.is(await host(old), ERASED_TEXT);
  assert.is(await host(recent), 'june-host');
  assert.is(await host(kept, b), 'january-host');

  // The ledger shows what aged out and when; the read models forgot it.
  const acts: KeysDestroyed[] = [];
  await log.scanRecords({ filter: aggregateTypeFilter('privacy') }, (r) => {
    for (const e of r.events) if (e.tenant === a && e.type === PrivacyEvents.keysDestroyed) acts.push(e.data as KeysDestroyed);
  });
  assert.is(acts.length, 1);
  assert.equal([acts[0]!.reason, acts[0]!.kind, acts[0]!.periods, acts[0]!.cutoff], ['retention', 'events', ['2025-01'], '2025-03-03T00:00:00.000Z']);
  assert.is(acts[0]!.keyIds.length, 1, "January's key of the machine");
  const t = await readToken(f.stk.runtime.streams, a, await log.lastPosition());
  assert.is((await f.call('GET', `/api/v1/tenants/${a}/agents/${old}?waitFor=${t}`)).body.hostname, ERASED_TEXT);
  assert.is((await f.call('GET', `/api/v1/tenants/${a}/agents/${recent}`)).body.hostname, 'june-host');
  assert.is((await f.call('GET', `/api/v1/tenants/${a}`)).body.name, `Tenant ${a}`, 'the tenant was created this month: its name is kept');
});

test('telemetry ages out per tenant from the TELEMETRY stream, recorded in the ledger; a tenant that keeps it longer keeps it', async () => {
  const streams = f.stk.runtime.streams;
  await streams.ensureStream(telemetryStreamSpec());
  const a = freshTenant('tm');
  const b = freshTenant('tm-long');
  await f.tenant(a);
  await f.tenant(b);
  await f.call('PUT', `/api/v1/tenants/${b}/retention`, { body: { kind: 'telemetry', days: 365 } });
  const item = new TextEncoder().encode('{"kind":"process"}');
  for (let i = 0; i < 3; i++) {
    await streams.publish(telemetrySubject(a, 'ag1'), item, { msgId: newId() });
    await streams.publish(telemetrySubject(b, 'ag1'), item, { msgId: newId() });
  }
  const count = async (t: string) => {
    let n = 0;
    await streams.scanEach(TELEMETRY_STREAM, { filter: `tm.*.${t}.>` }, () => {
      n++;
    });
    return n;
  };
  // Forty days from now, 30 days of telemetry ends ten days from now: everything stored today is older.
  const now = new Date(Date.now() + 40 * 86_400_000);
  const tenants = new Map([...(await tenantStates(log))].filter(([t]) => t === a || t === b));
  const r = await applyRetention({
    log,
    keys: f.stk.runtime.privacy!.keys,
    now,
    defaults: { ...DEFAULTS, events: null, evidence: null, 'scan-items': null },
    tenants,
    targets: [telemetryTarget(streams)],
  });
  assert.equal(r.removed, [{ tenant: a, kind: 'telemetry', items: 3 }]);
  assert.is(await count(a), 0);
  assert.is(await count(b), 3);
  const removed: DataRemoved[] = [];
  await log.scanRecords({ filter: aggregateTypeFilter('privacy') }, (x) => {
    for (const e of x.events) if (e.tenant === a && e.type === PrivacyEvents.dataRemoved) removed.push(e.data as DataRemoved);
  });
  assert.equal(removed, [{ kind: 'telemetry', cutoff: new Date(now.getTime() - 30 * 86_400_000).toISOString(), items: 3 }]);
});

test('scan items age out per tenant from the SCANS stream; a tenant that keeps them longer keeps them', async () => {
  const streams = f.stk.runtime.streams;
  await streams.ensureStream(scansStreamSpec());
  const a = freshTenant('sci');
  const b = freshTenant('sci-long');
  await f.tenant(a);
  await f.tenant(b);
  await f.call('PUT', `/api/v1/tenants/${b}/retention`, { body: { kind: 'scan-items', days: 3650 } });
  const item = new TextEncoder().encode('{"port":443}');
  for (let i = 0; i < 2; i++) {
    await streams.publish(runSubject(a, 'run1'), item, { msgId: newId() });
    await streams.publish(runSubject(b, 'run1'), item, { msgId: newId() });
  }
  const count = async (t: string) => {
    let n = 0;
    await streams.scanEach(SCANS_STREAM, { filter: scansTenantFilter(t) }, () => {
      n++;
    });
    return n;
  };
  const tenants = new Map([...(await tenantStates(log))].filter(([t]) => t === a || t === b));
  const defaults = { ...DEFAULTS, events: null, evidence: null, telemetry: null };
  const soon = await applyRetention({ log, keys: null, now: new Date(), defaults, tenants, targets: [scanItemsTarget(streams)] });
  assert.equal(soon.removed, [], '180 days are not over');
  // 200 days from now, 180 days of scan items ends 20 days from now: everything stored today is older.
  const r = await applyRetention({ log, keys: null, now: new Date(Date.now() + 200 * 86_400_000), defaults, tenants, targets: [scanItemsTarget(streams)] });
  assert.equal(r.removed, [{ tenant: a, kind: 'scan-items', items: 2 }]);
  assert.is(await count(a), 0);
  assert.is(await count(b), 2);
});

test('evidence bytes age out of the tenant’s bucket past the cut-off; a tenant without a bucket gets none made', async () => {
  const store = new EvidenceStore(f.stk.runtime.streams);
  const a = freshTenant('evd');
  const b = freshTenant('evd-none');
  await f.tenant(a);
  await f.tenant(b);
  await store.put(a, 'dump-1', new TextEncoder().encode('bytes'));
  const tenants = new Map([...(await tenantStates(log))].filter(([t]) => t === a || t === b));
  const keep = await applyRetention({ log, keys: null, now: new Date(), defaults: DEFAULTS, tenants, targets: [evidenceTarget(store)] });
  assert.equal(keep.removed, [], 'a year is not over');
  const later = await applyRetention({
    log,
    keys: null,
    now: new Date(Date.now() + 400 * 86_400_000),
    defaults: DEFAULTS,
    tenants,
    targets: [evidenceTarget(store)],
  });
  assert.equal(later.removed, [{ tenant: a, kind: 'evidence', items: 1 }]);
  assert.equal(await store.list(a), []);
  assert.is(await f.stk.runtime.streams.state(`OBJ_stk-evidence-${b}`), null);
});

test('scan items age out by their own retention: their months past its cut-off are shredded; the same months of other kinds and a tenant that keeps them longer are kept', async () => {
  const keys = f.stk.runtime.privacy!.keys;
  const a = freshTenant('scn');
  const b = freshTenant('scn-long');
  await f.tenant(a);
  await f.tenant(b);
  const set = await f.call('PUT', `/api/v1/tenants/${b}/retention`, { body: { kind: 'scan-items', days: 3650 } });
  assert.is(set.status, 200, JSON.stringify(set.body));
  // Keys of kind scan-items as the write path files them (per subject and month) for a scanning machine.
  const machine = async (t: string) => keys.subjectId(t, `agent:${newId()}`);
  const subjectA = await machine(a);
  const janScan = await keys.keyFor(a, subjectA, 'scan-items', '2025-01');
  const junScan = await keys.keyFor(a, subjectA, 'scan-items', '2025-06');
  const janEvents = await keys.keyFor(a, subjectA, 'events', '2025-01');
  const janOther = await keys.keyFor(b, await machine(b), 'scan-items', '2025-01');

  // 180 days before 2025-08-01 is 2025-02-02: January ended before it, June did not.
  const now = new Date('2025-08-01T00:00:00.000Z');
  const defaults = { ...DEFAULTS, events: null, evidence: null, telemetry: null };
  const tenants = new Map([...(await tenantStates(log))].filter(([t]) => t === a || t === b));
  const first = await applyRetention({ log, keys, now, defaults, tenants });
  assert.equal(
    first.destroyed.map((d) => [d.tenant, d.kind, d.periods, d.keys]),
    [[a, 'scan-items', ['2025-01'], 1]],
  );
  assert.is(await keys.key(a, janScan.keyId), null);
  assert.ok(await keys.key(a, junScan.keyId), 'June is within the 180 days');
  assert.ok(await keys.key(a, janEvents.keyId), 'events of the same month follow their own retention (forever here)');
  assert.ok(await keys.key(b, janOther.keyId), 'the tenant that keeps scan items ten years keeps them');
  assert.equal((await applyRetention({ log, keys, now, defaults, tenants })).destroyed, [], 'recorded once');

  const acts: KeysDestroyed[] = [];
  await log.scanRecords({ filter: aggregateTypeFilter('privacy') }, (r) => {
    for (const e of r.events) if (e.tenant === a && e.type === PrivacyEvents.keysDestroyed) acts.push(e.data as KeysDestroyed);
  });
  assert.equal(
    acts.map((x) => [x.reason, x.kind, x.periods, x.cutoff, x.keyIds]),
    [['retention', 'scan-items', ['2025-01'], '2025-02-02T00:00:00.000Z', [janScan.keyId]]],
  );
});

test('a month ages out only once the whole month is past the cut-off', () => {
  assert.equal(periodEnd('2025-01'), new Date('2025-02-01T00:00:00.000Z'));
  assert.equal(periodEnd('2025-12'), new Date('2026-01-01T00:00:00.000Z'));
});

test('retention settings are validated: a kind that does not exist, zero days', async () => {
  const a = freshTenant('retv');
  await f.tenant(a);
  assert.is((await f.call('PUT', `/api/v1/tenants/${a}/retention`, { body: { kind: 'logs', days: 3 } })).status, 400);
  const zero = await f.call('PUT', `/api/v1/tenants/${a}/retention`, { body: { kind: 'events', days: 0 } });
  assert.is(zero.status, 400);
  assert.is(zero.body.error.code, 'STK_ERR_VALIDATION');
  const back = await f.call('PUT', `/api/v1/tenants/${a}/retention`, { body: { kind: 'events', days: null } });
  assert.is(back.status, 200);
  assert.equal(back.body.kinds.find((k: { kind: string }) => k.kind === 'events').source, 'default');
});

test.run();
