import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { join } from 'node:path';
import { PrivacyEvents, type KeysDestroyed } from '../../commands/privacy/events.ts';
import { TenantEvents } from '../../commands/tenants/events.ts';
import { tokenDecider } from '../../commands/tokens/decider.ts';
import { TokenEvents } from '../../commands/tokens/events.ts';
import { backupStreams } from '../../src/backup/backup.ts';
import { honourErasures } from '../../src/backup/erasures.ts';
import { restoreStreams } from '../../src/backup/restore.ts';
import type { EventEnvelope } from '../../src/domain/events.ts';
import { derivedIds, execute } from '../../src/domain/execute.ts';
import { PRODUCTS } from '../../src/domain/products.ts';
import { EvidenceStore, evidenceBucketName } from '../../src/evidence/store.ts';
import { newId } from '../../src/ids.ts';
import { LEDGER_STREAM, ledgerSubject, parseBlock } from '../../src/ledger/format.ts';
import { Keyring } from '../../src/ledger/keys.ts';
import { Sealer } from '../../src/ledger/sealer.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { offboardTenant } from '../../src/lifecycle/offboard.ts';
import { deletedTenants } from '../../src/lifecycle/readmodels.ts';
import { evidenceTarget, scanItemsTarget } from '../../src/lifecycle/retention.ts';
import { createLogger } from '../../src/logger.ts';
import { EventLog, Streams, tenantFilter } from '../../src/log/mod.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { PACKAGES_STREAM, packagesStreamSpec, packagesTenantFilter, storePackageList } from '../../src/patch/packages.ts';
import { DATA_KEYS_BUCKET, eraseSubject, openPrivacy, type Privacy, TENANT_KEYS_BUCKET } from '../../src/privacy/mod.ts';
import { runSubject, SCANS_STREAM, scansStreamSpec, scansTenantFilter } from '../../src/scan/runs/stream.ts';
import { storeTelemetryBatch } from '../../src/telemetry/ingest.ts';
import { telemetryRoot } from '../../src/telemetry/items.ts';
import { TELEMETRY_STREAM, telemetryStreamSpec, telemetrySubject, telemetryTenantFilter } from '../../src/telemetry/stream.ts';
import { processItem } from '../edr/items.ts';
import { ADMIN, createTenant, enrollAgent, freshTenant } from '../helpers/events.ts';
import { natsFixture, tempDir } from '../helpers/nats.ts';
import { runCli } from '../helpers/proc.ts';

/**
 * A restore of a backup made before an erasure or an offboarding, into the NATS whose key store
 * survived (the disaster the backup tests simulate: streams and evidence buckets gone, key
 * buckets kept). Without honouring them, the erased machine's telemetry (stored in the clear)
 * and the offboarded customer's stores would be back, and EVENTS would not say they were forgotten.
 */
const test = suite('restore honours erasures and offboardings done after the backup');

const enc = new TextEncoder();
const dec = new TextDecoder();

async function batch(log: EventLog, tenant: string, agentId: string, pids: number[]): Promise<void> {
  const items = pids.map((pid) => processItem(pid));
  await storeTelemetryBatch(log, { tenant, agentId, products: PRODUCTS }, { batchId: newId(), merkleRoot: telemetryRoot(items), items });
}

/** Messages per telemetry subject of a tenant, as the stream holds them now. */
async function telemetryOf(streams: Streams, tenant: string): Promise<Record<string, number>> {
  return Object.fromEntries(await streams.subjects(TELEMETRY_STREAM, telemetryTenantFilter(tenant)));
}

async function eventsOf(log: EventLog, tenant: string): Promise<EventEnvelope[]> {
  return (await log.readTenant(tenant)).flatMap((r) => r.events);
}

/** Deletes every stream and bucket a backup holds, keeping the key store (and every other KV bucket). */
async function loseBackedUpState(nc: NatsConnection, tenants: string[]): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (const s of ['EVENTS', 'LEDGER', 'TELEMETRY', 'SCANS', 'PACKAGES', 'REFUSALS', ...tenants.map((t) => `OBJ_${evidenceBucketName(t)}`)])
    await jsm.streams.delete(s).catch(() => false);
}

async function startSealer(streams: Streams, keyDir: string): Promise<Sealer> {
  return Sealer.start({
    streams: streams.withTimeout(10_000),
    keyring: await Keyring.open(keyDir, { create: true }),
    logger: createLogger({ level: 'silent' }),
    blockMaxEntries: 50,
    blockMaxMs: 20,
    checkpointIntervalMs: 200,
  });
}

/** Resolves once the tenant's chain is sealed up to its newest record (a live read of its blocks). */
async function sealed(log: EventLog, tenant: string): Promise<void> {
  const position = await log.lastPositionOf(tenantFilter(tenant));
  const follow = log.streams.follow(LEDGER_STREAM, { filter: ledgerSubject(tenant) });
  const timer = setTimeout(() => void follow.stop(), 60_000);
  try {
    for await (const m of follow) if (parseBlock(m.data, { tenant }).lastSeq >= position) return;
    throw new Error(`the chain of ${tenant} was not sealed to ${position} within 60 s`);
  } finally {
    clearTimeout(timer);
    await follow.stop();
  }
}

test('an erased machine and an offboarded customer stay forgotten after restoring a backup made before; recorded once, however often it is restored', async () => {
  const nats = await natsFixture();
  const dirs = await tempDir('stk-restore-erasures-');
  const nc = await connectNats({ servers: nats.url });
  let privacy: Privacy | null = null;
  let sealer: Sealer | null = null;
  try {
    const streams = await Streams.open(nc);
    privacy = await openPrivacy(streams);
    const log = await EventLog.open(streams, { fields: privacy.cipher });
    const keyDir = join(dirs.path, 'ledger');
    sealer = await startSealer(streams, keyDir);
    await streams.ensureStream(telemetryStreamSpec());
    await streams.ensureStream(scansStreamSpec());
    await streams.ensureStream(packagesStreamSpec());
    const evidence = new EvidenceStore(streams, { keys: privacy.keys });

    // A: one machine to erase, one that stays. B: the customer that leaves. C: a bystander.
    const a = freshTenant('rea');
    const b = freshTenant('reb');
    const c = freshTenant('rec');
    for (const t of [a, b, c]) await createTenant(log, t, [...PRODUCTS]);
    const { agentId: leaver } = await enrollAgent(log, a, 'alice-laptop.corp');
    const { agentId: server } = await enrollAgent(log, a, 'db-server.corp');
    const { agentId: bHost } = await enrollAgent(log, b, 'b-host.corp');
    const { agentId: bOther } = await enrollAgent(log, b, 'b-other.corp');
    const { agentId: cHost } = await enrollAgent(log, c, 'alice-laptop.corp');
    await batch(log, a, leaver, [1, 2, 3]);
    await batch(log, a, server, [4, 5]);
    await batch(log, b, bHost, [6, 7]);
    await batch(log, c, cHost, [8]);
    await batch(log, a, leaver, [9]);
    const tokenId = newId();
    await execute(
      log,
      { tenant: b, id: tokenId },
      tokenDecider,
      { kind: 'create', token: { role: 'operator', lookup: newId(), hash: 'h'.repeat(64), label: 'b ops' } },
      { actor: ADMIN, known: 'new' },
    );
    await streams.publish(runSubject(b, 'run-1'), enc.encode('{"port":22,"banner":"SSH-2.0 b-host"}'), { msgId: newId() });
    await storePackageList(streams, b, bHost, { bytes: enc.encode('b-host openssl 3.0.11'), sha256: newId() });
    await evidence.put(b, newId(), Buffer.from('b memory dump'));

    const full = join(dirs.path, 'full');
    await backupStreams({ streams, out: full });

    // After the backup: A's machine erased, one of B's machines erased, then B offboarded.
    const erasure = await eraseSubject(log, privacy.keys, { tenant: a, subject: `agent:${leaver}`, reference: 'GDPR-17 alice', actor: ADMIN });
    assert.ok(erasure.keysDestroyed >= 1);
    assert.equal(Object.keys(await telemetryOf(streams, a)), [telemetrySubject(a, server)], "the erasure purged the machine's telemetry");
    const bErasure = await eraseSubject(log, privacy.keys, { tenant: b, subject: `agent:${bOther}`, reference: 'ticket-b', actor: ADMIN });
    const original = (await eventsOf(log, a)).find((e) => e.type === PrivacyEvents.keysDestroyed)!;
    const offboarded = await offboardTenant({
      log,
      keys: privacy.keys,
      tenant: b,
      actor: ADMIN,
      targets: [evidenceTarget(evidence), scanItemsTarget(streams)],
      sealWaitMs: 0,
    });
    const offboardingKeys = (
      (await eventsOf(log, b)).find((e) => e.type === PrivacyEvents.keysDestroyed && e.aggregate.id === 'offboarding')!.data as KeysDestroyed
    ).keyIds;
    assert.ok(offboardingKeys.length > 0);
    assert.is(offboarded.keysDestroyed, offboardingKeys.length);
    // The machine is still enrolled and sends again: what it sends after the erasure is not erased.
    await batch(log, a, leaver, [10]);
    const afterErasure = (await streams.state(TELEMETRY_STREAM))!.lastSeq;
    const inc = join(dirs.path, 'inc');
    await backupStreams({ streams, out: inc, since: full });
    const cTelemetry = await telemetryOf(streams, c);
    await sealed(log, a);
    await sealer.close();
    sealer = null;

    // The key store keeps the erasures and the offboarding, and no name: not the machine's id, not the reference.
    const kept = await privacy.keys.erasures();
    assert.equal(
      kept.map((e) => [e.tenant, e.erasureId]),
      [
        [a, erasure.erasureId],
        [b, bErasure.erasureId],
      ],
    );
    assert.is(kept[0]!.reference, 'GDPR-17 alice');
    assert.is(kept[0]!.subject, await privacy.keys.subjectId(a, `agent:${leaver}`));
    assert.is(kept[1]!.reference, null, "an offboarded tenant's reference is shredded with its tenant key");
    for (const bucket of [DATA_KEYS_BUCKET, TENANT_KEYS_BUCKET]) {
      await streams.scanEach(`KV_${bucket}`, {}, (m) => {
        const text = `${m.subject} ${dec.decode(m.data)}`;
        for (const name of ['alice', 'GDPR', 'ticket-b', leaver, bOther]) assert.not.ok(text.includes(name), `${bucket} holds ${name}`);
      });
    }

    // The disaster: every backed-up stream is gone, the key store is not. The backup from before is restored.
    await loseBackedUpState(nc, [a, b, c]);
    const r = await restoreStreams({ streams, from: [full] });
    assert.equal(
      r.honoured!.erasures.map((e) => [e.tenant, e.erasureId, e.recorded, e.telemetryRemoved]),
      [
        [a, erasure.erasureId, true, 4],
        [b, bErasure.erasureId, true, 0],
      ],
    );
    assert.equal(r.honoured!.offboardings, [{ tenant: b, recorded: true, tokensRevoked: 1, removed: { telemetry: 2, packages: 1, scans: 1, evidence: 1 } }]);

    // The machine's telemetry is not back; the other machine's and the bystander's are.
    assert.equal(Object.keys(await telemetryOf(streams, a)), [telemetrySubject(a, server)]);
    assert.equal(await telemetryOf(streams, c), cTelemetry);
    // Nothing of B outside EVENTS.
    assert.equal(await telemetryOf(streams, b), {});
    assert.is((await streams.subjects(SCANS_STREAM, scansTenantFilter(b))).size, 0);
    assert.is((await streams.subjects(PACKAGES_STREAM, packagesTenantFilter(b))).size, 0);
    assert.is(await streams.state(`OBJ_${evidenceBucketName(b)}`), null);

    // The erasure is in EVENTS again: the same event id, by the restore, with its sealed reference.
    const erasures = (await eventsOf(log, a)).filter((e) => e.type === PrivacyEvents.keysDestroyed);
    assert.is(erasures.length, 1);
    const again = erasures[0]!;
    assert.is(again.id, original.id);
    assert.is(again.id, derivedIds(a, 'erasure', erasure.erasureId)(0));
    assert.equal(again.actor, { kind: 'system', id: 'stockade-restore' });
    const data = again.data as KeysDestroyed;
    assert.equal(data.keyIds, (original.data as KeysDestroyed).keyIds);
    assert.is(data.reference, 'GDPR-17 alice');
    assert.is(data.telemetryRemoved, 4);
    assert.ok(data.firstRecordedAt && data.firstRecordedAt <= again.at);
    let clear = 0;
    await streams.scanEach('EVENTS', { filter: tenantFilter(a) }, (m) => {
      if (dec.decode(m.data).includes('GDPR')) clear++;
    });
    assert.is(clear, 0, 'the reference is sealed in the restored log too');

    // B's chain ends with its deletion again, after its erasure and its tokens' revocation.
    const bEvents = await eventsOf(log, b);
    assert.is(bEvents.at(-1)!.type, TenantEvents.deleted);
    assert.is(bEvents.at(-1)!.id, derivedIds(b, 'offboarding', 'deleted')(0));
    assert.ok(bEvents.some((e) => e.type === TokenEvents.revoked && e.aggregate.id === tokenId));
    const bDestructions = bEvents.filter((e) => e.type === PrivacyEvents.keysDestroyed);
    assert.equal(
      bDestructions.map((e) => e.aggregate.id),
      [bErasure.erasureId, 'offboarding'],
    );
    assert.equal((bDestructions[1]!.data as KeysDestroyed).keyIds, offboardingKeys);
    assert.ok((await deletedTenants(log)).has(b), 'the projectors remove its read models');

    // Honoured again (a second run after a crash): nothing recorded or removed twice.
    const twice = await honourErasures(streams);
    assert.equal(
      twice!.erasures.map((e) => [e.recorded, e.telemetryRemoved]),
      [
        [false, 0],
        [false, 0],
      ],
    );
    assert.equal(twice!.offboardings, [{ tenant: b, recorded: false, tokensRevoked: 0, removed: { telemetry: 0, packages: 0, scans: 0, evidence: 0 } }]);
    assert.is((await eventsOf(log, a)).filter((e) => e.type === PrivacyEvents.keysDestroyed).length, 1);
    assert.is((await eventsOf(log, b)).filter((e) => e.type === TenantEvents.deleted).length, 1);

    // The chains, extended by what the restore recorded, verify with the same signing keys.
    sealer = await startSealer(streams, keyDir);
    await sealed(log, a);
    await sealed(log, b);
    const report = await verifyLedger({ streams, tenants: [a, b, c] });
    assert.ok(report.ok, JSON.stringify(report.tenants.map((x) => x.break)));
    assert.ok(report.tenants[0]!.shredded >= 1, "the erased machine's entries count as shredded");
    await sealer.close();
    sealer = null;

    // Restored once more, now with the increment taken after the erasure: the erasure is in it,
    // so nothing is recorded, but the full backup's items of the machine are purged again, and
    // what it sent after the erasure stays.
    // This time through the command an operator runs.
    await loseBackedUpState(nc, [a, b, c]);
    const cli = runCli(['restore', '--from', full, '--from', inc, '--nats-url', nats.url]);
    assert.is(await cli.exited, 0, cli.lines.join('\n'));
    assert.ok(
      cli.lines.includes(`erasure ${erasure.erasureId} of ${a} honoured: nothing to record again, 4 restored telemetry item(s) of the machine removed again`),
      cli.lines.join('\n'),
    );
    assert.ok(
      cli.lines.includes(
        `offboarding of ${b} honoured: nothing to record again; removed again: 2 telemetry item(s), 1 package list(s), 1 scan item(s), 0 evidence object(s)`,
      ),
      cli.lines.join('\n'),
    );
    const leaverNow = await telemetryOf(streams, a);
    assert.equal(leaverNow, { [telemetrySubject(a, leaver)]: 1, [telemetrySubject(a, server)]: 2 });
    assert.is((await streams.last(TELEMETRY_STREAM, telemetrySubject(a, leaver)))!.seq, afterErasure);
    assert.is((await eventsOf(log, a)).filter((e) => e.type === PrivacyEvents.keysDestroyed).length, 1);
    const bNow = (await eventsOf(log, b)).map((e) => e.type);
    assert.is(bNow.filter((t) => t === TenantEvents.deleted).length, 1);
    // The log of an offboarded customer ends with its deletion: this second restore records nothing after it.
    assert.equal(bNow.slice(bNow.indexOf(TenantEvents.deleted) + 1), []);

    // Run on its own (after STK_ERR_RESTORE_UNHONOURED), it finds nothing left to do.
    const only = runCli(['restore', '--honour-erasures-only', '--nats-url', nats.url]);
    assert.is(await only.exited, 0, only.lines.join('\n'));
    assert.ok(
      only.lines.includes(`erasure ${erasure.erasureId} of ${a} honoured: nothing to record again, 0 restored telemetry item(s) of the machine removed again`),
      only.lines.join('\n'),
    );
  } finally {
    await sealer?.close();
    privacy?.close();
    await nc.close().catch(() => {});
    await nats.stop();
    await dirs.cleanup();
  }
});

test('a restore into a NATS without a key store has nothing to honour', async () => {
  const nats = await natsFixture();
  const dirs = await tempDir('stk-restore-erasures-');
  const nc = await connectNats({ servers: nats.url });
  try {
    const streams = await Streams.open(nc);
    const log = await EventLog.open(streams);
    await createTenant(log, freshTenant('ren'));
    const out = join(dirs.path, 'full');
    await backupStreams({ streams, out });
    await loseBackedUpState(nc, []);
    const r = await restoreStreams({ streams, from: [out] });
    assert.is(r.honoured, null);
    // And it made none: a key store created by a restore would hold no key of the restored data.
    assert.is(await streams.state(`KV_${TENANT_KEYS_BUCKET}`), null);
  } finally {
    await nc.close().catch(() => {});
    await nats.stop();
    await dirs.cleanup();
  }
});

test.run();
