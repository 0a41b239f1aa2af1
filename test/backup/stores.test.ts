import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { backupStreams } from '../../src/backup/backup.ts';
import { restoreStreams } from '../../src/backup/restore.ts';
import { PRODUCTS } from '../../src/domain/products.ts';
import { EVIDENCE_HEADERS, EvidenceStore, evidenceBucketName, sha256Hex } from '../../src/evidence/store.ts';
import { newId } from '../../src/ids.ts';
import { EventLog, type Streams } from '../../src/log/mod.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { recordInventory } from '../../src/patch/ingest.ts';
import { packagesStreamSpec, packageTuples, readPackageList, storePackageList } from '../../src/patch/packages.ts';
import { type Refusal, Refusals } from '../../src/people/refusals.ts';
import { KeyStore } from '../../src/privacy/keystore.ts';
import { storeRunItems } from '../../src/scan/runs/items.ts';
import { buildScanProof, checkScanProof } from '../../src/scan/runs/proof.ts';
import { sealRun } from '../../src/scan/runs/seal.ts';
import { scansStreamSpec } from '../../src/scan/runs/stream.ts';
import { storeTelemetryBatch } from '../../src/telemetry/ingest.ts';
import { telemetryRoot } from '../../src/telemetry/items.ts';
import { telemetryBatchId, telemetryItemId } from '../../src/telemetry/ids.ts';
import { buildTelemetryProof, checkTelemetryProof } from '../../src/telemetry/proof.ts';
import { TELEMETRY_STREAM, telemetryStreamSpec, telemetrySubject } from '../../src/telemetry/stream.ts';
import { connectionItem, processItem } from '../edr/items.ts';
import { rejects } from '../helpers/assert.ts';
import { AGENT_ACTOR, createTenant, enrollAgent, freshTenant } from '../helpers/events.ts';
import { doorOf, natsFixture, tempDir } from '../helpers/nats.ts';
import { quiet } from '../ledger/fixture.ts';

/**
 * Backup and restore of every store whose loss loses customer data or breaks a proof: telemetry,
 * scan items, package lists, refusals and evidence bytes, next to EVENTS and LEDGER. Real
 * nats-servers; the restored NATS answers proofs, package lists and downloads as the original did.
 */
const test = suite('backup and restore of telemetry, scans, package lists, refusals and evidence');

const INVENTORY = {
  kind: 'patch-inventory' as const,
  takenAt: '2026-01-01T00:00:00.000Z',
  os: null,
  packages: [{ name: 'openssl', version: '3.0.1', architecture: 'amd64', source: 'openssl', sourceVersion: '3.0.1', status: 'installed', held: false }],
  upgrades: [],
  newInstalls: [],
  removals: [],
  reboot: { required: false, packages: [] },
  listsRefreshed: true,
  warnings: [],
};

const REFUSAL: Refusal = {
  at: '2026-01-01T00:00:00.000Z',
  kind: 'forbidden',
  code: 'STK_ERR_FORBIDDEN',
  actor: 'op-1',
  via: null,
  method: 'POST',
  route: '/x',
  ip: '127.0.0.1',
};

interface Install {
  tenant: string;
  agentId: string;
  /** TELEMETRY sequences of items whose batches were sealed. */
  telemetrySeqs: number[];
  runId: string;
  packages: { seqs: number[]; sha256: string };
  evidence: { encrypted: { id: string; sha256: string }; clear: { id: string; sha256: string } };
}

async function seal(
  log: EventLog,
  tenant: string,
  agentId: string,
  batchId: string,
  items: Parameters<typeof storeTelemetryBatch>[2]['items'],
): Promise<number[]> {
  const r = await storeTelemetryBatch(log, { tenant, agentId, products: PRODUCTS }, { batchId, merkleRoot: telemetryRoot(items), items });
  // Published alone, a batch's items are consecutive and end at the position the store answered.
  const first = r.telemetryPosition - r.count + 1;
  const batch = telemetryBatchId(tenant, agentId, batchId);
  batchStarts.set(batch, first);
  const out: number[] = [];
  for (let i = 0; i < r.count; i++) {
    out.push(first + i);
    itemAt.set(first + i, telemetryItemId(batch, i));
  }
  return out;
}

/** Where each sealed batch starts in TELEMETRY (what the read side's batch index knows), and each item's name by its sequence. */
const batchStarts = new Map<string, number>();
const itemAt = new Map<number, string>();

/**
 * An install with a sealed scan run, two inventories whose package list came back to an earlier
 * one (the same msg-id stored twice, past the duplicate window), refusals, evidence encrypted
 * and in the clear, and telemetry with gaps: the first items and another agent's in the middle
 * purged (erasure), so a restore must keep sequences for batch events to point at their items.
 */
async function buildInstall(log: EventLog, keys: KeyStore): Promise<Install> {
  const streams = log.streams;
  const tenant = freshTenant('bks');
  await createTenant(log, tenant, [...PRODUCTS]);
  const { agentId } = await enrollAgent(log, tenant, 'ws-1');
  const { agentId: erased } = await enrollAgent(log, tenant, 'ws-2');
  await streams.ensureStream(telemetryStreamSpec());
  await seal(log, tenant, erased, 'b0', [processItem(1), processItem(2)]);
  const telemetrySeqs = await seal(log, tenant, agentId, 'b1', [processItem(10), connectionItem(443), processItem(11)]);
  await seal(log, tenant, erased, 'b2', [processItem(3)]);
  telemetrySeqs.push(...(await seal(log, tenant, agentId, 'b3', [processItem(12), processItem(13)])));
  assert.is(await streams.purge(TELEMETRY_STREAM, telemetrySubject(tenant, erased)), 3);

  await streams.ensureStream(scansStreamSpec({ updateMutable: false }));
  const runId = newId();
  const scanItems = [
    { target: '192.0.2.10', address: '192.0.2.10', port: 22, state: 'open' as const, banner: 'SSH-2.0-x' },
    { target: '192.0.2.10', address: '192.0.2.10', port: 80, state: 'closed' as const },
  ];
  await storeRunItems(log, tenant, runId, 0, scanItems);
  await sealRun(log, {
    tenant,
    runId,
    source: 'agent',
    agentId,
    commandId: null,
    targets: ['192.0.2.10'],
    ports: [22, 80],
    count: scanItems.length,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:01:00.000Z',
    aborted: false,
    services: [],
    actor: AGENT_ACTOR(agentId),
  });

  // PACKAGES with the server's smallest duplicate window: the same list stored again once the
  // window has passed (each publish either dedupes or stores; no sleeping).
  await streams.ensureStream({ ...packagesStreamSpec(), duplicateWindowMs: 100 });
  await recordInventory(log, { tenant, agentId }, INVENTORY, { now: new Date('2026-01-02T00:00:00.000Z') });
  const list = packageTuples(INVENTORY);
  const first = await storePackageList(streams, tenant, agentId, list);
  let again = first;
  while (again === first) again = await storePackageList(streams, tenant, agentId, list);

  const refusals = new Refusals(streams, quiet);
  await refusals.record([tenant], REFUSAL);
  await refusals.record([tenant, 'another-tenant-probed'], { ...REFUSAL, kind: 'not-visible' });

  const encryptedBytes = Buffer.from('encrypted evidence bytes '.repeat(2000));
  const clearBytes = Buffer.from('clear evidence bytes');
  const encrypted = { id: newId(), sha256: sha256Hex(encryptedBytes) };
  const clear = { id: newId(), sha256: sha256Hex(clearBytes) };
  await new EvidenceStore(streams).put(tenant, clear.id, clearBytes);
  const stored = await new EvidenceStore(streams, { keys }).put(tenant, encrypted.id, encryptedBytes);
  assert.ok(stored.headers[EVIDENCE_HEADERS.format], 'stored encrypted');
  return { tenant, agentId, telemetrySeqs, runId, packages: { seqs: [first, again], sha256: list.sha256 }, evidence: { encrypted, clear } };
}

/** Telemetry and scan proofs of `w` build and check on `log`'s NATS, at the original sequences. */
async function assertProofs(log: EventLog, w: Install): Promise<void> {
  for (const seq of w.telemetrySeqs) {
    const itemId = itemAt.get(seq)!;
    // The restored stream keeps the original sequences, so the batch index built before still holds.
    const p = await buildTelemetryProof(log, w.tenant, itemId, async (b) => batchStarts.get(b) ?? null);
    assert.is(p.itemId, itemId);
    assert.equal(checkTelemetryProof(JSON.parse(JSON.stringify(p))), { ok: true });
  }
  for (const index of [0, 1]) assert.equal(checkScanProof(JSON.parse(JSON.stringify(await buildScanProof(log, w.tenant, w.runId, index)))), { ok: true });
  for (const seq of w.packages.seqs)
    assert.equal(await readPackageList(log.streams, w.tenant, w.agentId, seq, w.packages.sha256), packageTuples(INVENTORY).tuples);
  const refused: Refusal[] = [];
  for await (const r of new Refusals(log.streams, quiet).all(w.tenant)) refused.push(r);
  assert.equal(
    refused.map((r) => r.kind),
    ['forbidden', 'not-visible'],
  );
}

async function streamNames(nc: NatsConnection): Promise<string[]> {
  const out: string[] = [];
  for await (const name of (await jetstreamManager(nc)).streams.names()) out.push(name);
  return out.sort();
}

test('a full backup restores every store into a fresh NATS: proofs check at the same sequences, evidence without its keys reads as erased', async () => {
  const source = await natsFixture();
  const target = await natsFixture();
  const dirs = await tempDir('stk-backup-');
  const nc = await connectNats({ servers: source.url });
  const tnc = await connectNats({ servers: target.url });
  let keys: KeyStore | null = null;
  let tkeys: KeyStore | null = null;
  try {
    const log = await EventLog.connect(nc);
    keys = await KeyStore.open(log.streams);
    const w = await buildInstall(log, keys);
    const out = join(dirs.path, 'full');
    const m = await backupStreams({ streams: log.streams, out });
    assert.is(m.format, 2);
    const srcTelemetry = (await log.streams.state(TELEMETRY_STREAM))!;
    // The erased agent's first items left a gap before the first one kept, its later one a gap in between.
    assert.ok(w.telemetrySeqs[0]! > 1);
    assert.is(m.streams.TELEMETRY.firstSeq, w.telemetrySeqs[0]);
    assert.is(m.streams.TELEMETRY.endSeq, srcTelemetry.lastSeq);
    assert.is(m.streams.TELEMETRY.messages, 5);
    assert.is(m.streams.PACKAGES.messages, 2); // the inventory's list, and the same list again past the window
    assert.is(m.streams.REFUSALS.messages, 3);
    const bucket = m.buckets![evidenceBucketName(w.tenant)]!;
    assert.equal(bucket.objects.map((o) => o.file !== null).sort(), [true, true]);
    assert.ok(!(await readdir(out)).some((f) => f.includes('stk-tenant-keys') || f.includes('stk-data-keys')));
    // The tenant's log says what the backup copied of it.
    const taken = (await log.readTenant(w.tenant)).flatMap((r) => r.events).find((e) => e.type === 'backup.taken')!;
    const data = taken.data as { tenantItems: Record<string, number>; evidence: { objects: number; copied: number } };
    assert.equal(data.tenantItems, { TELEMETRY: 5, SCANS: 2, PACKAGES: 2, REFUSALS: 2 });
    assert.equal([data.evidence.objects, data.evidence.copied], [2, 2]);

    // A tampered object file, a tampered telemetry line: refused before anything is written.
    const tampered = join(dirs.path, 'tampered');
    await cp(out, tampered, { recursive: true });
    const objectFile = join(tampered, bucket.objects.find((o) => o.name === w.evidence.clear.id)!.file!);
    await writeFile(objectFile, 'clear evidence bytez');
    await rejects(restoreStreams({ streams: await doorOf(tnc), from: [tampered] }), 'STK_ERR_BACKUP_CORRUPT');
    const tampered2 = join(dirs.path, 'tampered2');
    await cp(out, tampered2, { recursive: true });
    const tf = join(tampered2, 'TELEMETRY.jsonl');
    const lines = (await readFile(tf, 'utf8')).trimEnd().split('\n');
    const line = JSON.parse(lines[0]!);
    line.data = Buffer.from(Buffer.from(line.data, 'base64').toString('utf8').replace('"pid":10', '"pid":66')).toString('base64');
    lines[0] = JSON.stringify(line);
    await writeFile(tf, `${lines.join('\n')}\n`);
    await rejects(restoreStreams({ streams: await doorOf(tnc), from: [tampered2] }), 'STK_ERR_BACKUP_CORRUPT');
    assert.equal(await streamNames(tnc), []);

    const r = await restoreStreams({ streams: await doorOf(tnc), from: [out] });
    assert.equal(r.evidence[w.tenant], { bucket: evidenceBucketName(w.tenant), objects: 2, bytes: r.evidence[w.tenant]!.bytes });
    const tlog = await EventLog.connect(tnc);
    // The same sequence range, the fillers of the gaps gone.
    const t = (await tlog.streams.state(TELEMETRY_STREAM))!;
    assert.equal([t.firstSeq, t.lastSeq, t.messages], [srcTelemetry.firstSeq, srcTelemetry.lastSeq, srcTelemetry.messages]);
    await assertProofs(tlog, w);
    // No key store came with the backup: the encrypted evidence reads as erased, the clear one as it was.
    tkeys = await KeyStore.open(tlog.streams);
    const store = new EvidenceStore(tlog.streams, { keys: tkeys });
    await rejects(store.read(w.tenant, w.evidence.encrypted.id, w.evidence.encrypted.sha256), 'STK_ERR_EVIDENCE_ERASED');
    assert.is(sha256Hex(await store.read(w.tenant, w.evidence.clear.id, w.evidence.clear.sha256)), w.evidence.clear.sha256);
    // The stored bytes and headers are those of the original.
    const [a, b] = [await new EvidenceStore(log.streams).info(w.tenant, w.evidence.encrypted.id), await store.info(w.tenant, w.evidence.encrypted.id)];
    assert.equal([b!.sha256, b!.size, b!.headers], [a!.sha256, a!.size, a!.headers]);
    const restored = (await tlog.readTenant(w.tenant)).flatMap((rec) => rec.events).find((e) => e.type === 'backup.restored')!;
    assert.equal((restored.data as { evidence: { objects: number } }).evidence.objects, 2);
    // The restored stream remembers message ids for its own window again.
    assert.is((await (await jetstreamManager(tnc)).streams.info('PACKAGES')).config.duplicate_window, 120_000 * 1_000_000);

    // A second restore is refused: the streams and the bucket exist.
    await rejects(restoreStreams({ streams: await doorOf(tnc), from: [out] }), 'STK_ERR_RESTORE_TARGET_EXISTS');
  } finally {
    keys?.close();
    tkeys?.close();
    await nc.close().catch(() => {});
    await tnc.close().catch(() => {});
    await source.stop();
    await target.stop();
    await dirs.cleanup();
  }
});

/** Deletes every stream and bucket a backup holds, leaving the key store: a NATS whose key store survived. */
async function loseBackedUpState(nc: NatsConnection, tenant: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (const s of ['EVENTS', 'LEDGER', 'TELEMETRY', 'SCANS', 'PACKAGES', 'REFUSALS', `OBJ_${evidenceBucketName(tenant)}`])
    await jsm.streams.delete(s).catch(() => false);
}

test('increments copy only new messages and new evidence bytes; restored where the key store survived, evidence downloads with its sealed SHA-256', async () => {
  const source = await natsFixture();
  const dirs = await tempDir('stk-backup-');
  const nc = await connectNats({ servers: source.url });
  let keys: KeyStore | null = null;
  try {
    const log = await EventLog.connect(nc);
    keys = await KeyStore.open(log.streams);
    const w = await buildInstall(log, keys);
    const full = join(dirs.path, 'full');
    const inc = join(dirs.path, 'inc');
    const m0 = await backupStreams({ streams: log.streams, out: full, record: false });
    // After the full backup: a new batch, a new encrypted object, the clear one removed (retention).
    const newSeqs = await seal(log, w.tenant, w.agentId, 'b4', [processItem(20), processItem(21)]);
    const more = Buffer.from('more evidence');
    const moreId = newId();
    await new EvidenceStore(log.streams, { keys }).put(w.tenant, moreId, more);
    assert.ok(await (await log.streams.objectBucket(evidenceBucketName(w.tenant))).delete(w.evidence.clear.id));
    const m1 = await backupStreams({ streams: log.streams, out: inc, since: full, record: false });
    assert.is(m1.streams.TELEMETRY.afterSeq, m0.streams.TELEMETRY.lastSeq);
    assert.is(m1.streams.TELEMETRY.messages, 2);
    const objects = m1.buckets![evidenceBucketName(w.tenant)]!.objects;
    // Listed: the old encrypted object (bytes in the full backup) and the new one (bytes here).
    assert.equal(
      objects.map((o) => [o.name, o.file === null]).sort(),
      [
        [w.evidence.encrypted.id, true],
        [moreId, false],
      ].sort(),
    );

    // Only the increment, or an increment whose object file is in no earlier folder: refused.
    const s = await doorOf(nc);
    await rejects(restoreStreams({ streams: s, from: [inc] }), 'STK_ERR_BACKUP_CORRUPT');

    await loseBackedUpState(nc, w.tenant);
    await restoreStreams({ streams: log.streams, from: [full, inc] });
    const rlog = await EventLog.connect(nc);
    await assertProofs(rlog, { ...w, telemetrySeqs: [...w.telemetrySeqs, ...newSeqs] });
    const store = new EvidenceStore(rlog.streams, { keys });
    assert.is(sha256Hex(await store.read(w.tenant, w.evidence.encrypted.id, w.evidence.encrypted.sha256)), w.evidence.encrypted.sha256);
    assert.is(sha256Hex(await store.read(w.tenant, moreId, sha256Hex(more))), sha256Hex(more));
    await rejects(store.read(w.tenant, w.evidence.clear.id, w.evidence.clear.sha256), 'STK_ERR_EVIDENCE_CONTENT_MISSING');
  } finally {
    keys?.close();
    await nc.close().catch(() => {});
    await source.stop();
    await dirs.cleanup();
  }
});

test('a format-1 backup (EVENTS and LEDGER only) still restores', async () => {
  const source = await natsFixture();
  const target = await natsFixture();
  const dirs = await tempDir('stk-backup-');
  const nc = await connectNats({ servers: source.url });
  const tnc = await connectNats({ servers: target.url });
  try {
    const log = await EventLog.connect(nc);
    const tenant = freshTenant('bk1');
    const { position } = await createTenant(log, tenant);
    const out = join(dirs.path, 'v1');
    await backupStreams({ streams: log.streams, out, record: false });
    // What a build before format 2 wrote: two streams, no buckets, no tenants, no endSeq.
    const m = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    const v1 = { ...m, format: 1, streams: { LEDGER: m.streams.LEDGER, EVENTS: m.streams.EVENTS } };
    delete v1.buckets;
    delete v1.tenants;
    for (const e of Object.values(v1.streams) as Array<Record<string, unknown>>) delete e.endSeq;
    await writeFile(join(out, 'manifest.json'), `${JSON.stringify(v1, null, 2)}\n`);
    const r = await restoreStreams({ streams: (await doorOf(tnc)) as Streams, from: [out], record: false });
    assert.equal(Object.keys(r.streams).sort(), ['EVENTS', 'LEDGER']);
    assert.is(r.streams.EVENTS!.messages, position);
    assert.equal(await streamNames(tnc), ['EVENTS', 'LEDGER']);
    // An increment cannot continue a format-1 backup: it would miss the other stores.
    await rejects(backupStreams({ streams: log.streams, out: join(dirs.path, 'inc'), since: out }), 'STK_ERR_CONFIG');
  } finally {
    await nc.close().catch(() => {});
    await tnc.close().catch(() => {});
    await source.stop();
    await target.stop();
    await dirs.cleanup();
  }
});

test.run();
