/**
 * Threat model finding 6: TELEMETRY sequences are install-wide, so the gaps between a tenant's own
 * would show how much every other tenant sends. Two tenants interleave batches; everything tenant A
 * reads through the API (documents, cursors, proofs) names its items `<batch>:<index>` and holds no
 * number equal to one of its items' TELEMETRY sequences; new batches are sealed without positions,
 * and batches sealed in the old format (schema 1, with firstSeq/lastSeq) still prove.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TELEMETRY_BATCH, TelemetryEvents } from '../../commands/telemetry/events.ts';
import { storeTelemetryBatch } from '../../src/telemetry/ingest.ts';
import { itemBytes, type TelemetryItem, telemetryRoot } from '../../src/telemetry/items.ts';
import { telemetryBatchId, telemetryMsgId } from '../../src/telemetry/ids.ts';
import { checkTelemetryProof } from '../../src/telemetry/proof.ts';
import { BATCH_HEADER, INDEX_HEADER, TELEMETRY_STREAM, telemetrySubject, telemetryTenantFilter } from '../../src/telemetry/stream.ts';
import { type ApiFixture, apiFixture } from '../helpers/api.ts';
import { accountItem, connectionItem, processItem } from './items.ts';

const test = suite('telemetry items are named by batch and index, never by TELEMETRY sequence');
let f: ApiFixture;
const A = 'names-a';
const B = 'names-b';
const AGENT_A = 'agent-a-names';
const AGENT_B = 'agent-b-names';
const PRODUCTS = ['edr', 'identity'] as const;
let tokenA: string;
/** Highest TELEMETRY sequence stored so far: the read models are awaited up to it. */
let stored = 0;

// Numbers in A's items are far from any sequence this suite makes (a few thousand at most).
const aProcess = (n: number) => processItem(200_000 + n, { ppid: 100_001, uid: 0 });
const aConnection = (n: number) => connectionItem(443, { pid: 300_000 + n, localPort: 50_000 + n });
const aAccount = (n: number) => accountItem(`user${n}`, { uid: 900_000 + n });

test.before(async () => {
  f = await apiFixture();
  await f.tenant(A, [...PRODUCTS]);
  await f.tenant(B, [...PRODUCTS]);
  tokenA = await f.token(A, 'operator');
});
test.after(async () => {
  await f?.cleanup();
});

async function store(tenant: string, agentId: string, batchId: string, items: TelemetryItem[]) {
  const r = await storeTelemetryBatch(f.stk.runtime.log, { tenant, agentId, products: PRODUCTS }, { batchId, merkleRoot: telemetryRoot(items), items });
  stored = Math.max(stored, r.telemetryPosition);
  return r;
}

async function readable(): Promise<void> {
  assert.ok(await f.stk.runtime.readModels!.telemetry.projector.waitFor(stored, 30_000), 'the telemetry read models caught up');
}

/** Every TELEMETRY sequence of a tenant's items. */
async function sequencesOf(tenant: string): Promise<Set<number>> {
  const out = new Set<number>();
  for await (const m of f.stk.runtime.log.streams.scan(TELEMETRY_STREAM, { filter: telemetryTenantFilter(tenant) })) out.add(m.seq);
  return out;
}

/** Every number anywhere in a JSON answer, and every key. */
function numbersAndKeys(v: unknown, nums: number[] = [], keys: Set<string> = new Set()): { nums: number[]; keys: Set<string> } {
  if (typeof v === 'number') nums.push(v);
  else if (Array.isArray(v)) for (const x of v) numbersAndKeys(x, nums, keys);
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) {
      keys.add(k);
      numbersAndKeys(x, nums, keys);
    }
  return { nums, keys };
}

const get = async (path: string) => {
  const r = await f.call('GET', `/api/v1/tenants/${A}${path}`, { token: tokenA });
  assert.is(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
  return r.body;
};

test("two tenants interleave batches: nothing A's API answers carries one of its TELEMETRY sequences, and every item proves by its name", async () => {
  // B sends first and in between: A's sequences have gaps that B's volume makes.
  await store(
    B,
    AGENT_B,
    'b-0',
    Array.from({ length: 600 }, (_, i) => processItem(10 + i)),
  );
  await store(A, AGENT_A, 'a-1', [aProcess(1), aConnection(1), aAccount(1)]);
  await store(
    B,
    AGENT_B,
    'b-1',
    Array.from({ length: 250 }, (_, i) => connectionItem(1000 + i)),
  );
  await store(A, AGENT_A, 'a-2', [aProcess(2), aProcess(3), aAccount(2), aConnection(2)]);
  await store(
    B,
    AGENT_B,
    'b-2',
    Array.from({ length: 120 }, (_, i) => accountItem(`b${i}`)),
  );
  await store(A, AGENT_A, 'a-3', [aProcess(4)]);
  await readable();
  const seqs = await sequencesOf(A);
  assert.is(seqs.size, 8);

  const answers: unknown[] = [];
  const processes = await get(`/processes?agentId=${AGENT_A}&limit=2`);
  answers.push(processes);
  assert.type(processes.nextCursor, 'string', 'a second page');
  answers.push(await get(`/processes?agentId=${AGENT_A}&limit=2&cursor=${encodeURIComponent(processes.nextCursor)}`));
  const allProcesses = (await get(`/processes?agentId=${AGENT_A}&limit=200`)).items;
  const connections = (await get(`/connections?agentId=${AGENT_A}`)).items;
  const identities = (await get(`/identities?agentId=${AGENT_A}`)).items;
  const changes = (await get(`/identity-changes?agentId=${AGENT_A}`)).items;
  answers.push(allProcesses, connections, identities, changes);
  answers.push(await get(`/processes/${allProcesses[0].id}`), await get(`/connections/${connections[0].id}`), await get(`/identities/${identities[0].id}`));
  assert.is(allProcesses.length, 4);
  assert.is(changes.length, 2);

  // Every item named `<batch>:<index>`, the batch being its sealed event's aggregate.
  const named = [...allProcesses, ...connections, ...changes].map((d: { itemId: string }) => d.itemId);
  assert.is(new Set(named).size, 8);
  for (const id of named) assert.match(id, /^[A-Za-z0-9_-]{22}:\d$/);
  assert.ok(named.includes(`${telemetryBatchId(A, AGENT_A, 'a-3')}:0`));
  for (const id of named) {
    const proof = await get(`/telemetry/items/${encodeURIComponent(id)}/proof`);
    answers.push(proof);
    assert.is(proof.format, 2);
    assert.is(proof.itemId, id);
    assert.equal(Object.keys(proof.batch.data).sort(), ['agentId', 'batchId', 'count', 'merkleRoot']);
    assert.is(proof.batch.schema, 2);
    assert.equal(checkTelemetryProof(proof), { ok: true }, id);
  }

  const { nums, keys } = numbersAndKeys(answers);
  assert.ok(nums.length > 50, 'the answers hold numbers to check');
  const leaked = nums.filter((n) => seqs.has(n));
  assert.equal(leaked, [], "no number in A's answers is one of A's TELEMETRY sequences");
  for (const k of ['seq', 'firstSeq', 'lastSeq']) assert.not.ok(keys.has(k), `no answer carries ${k}`);
});

test("another tenant's item, a made-up index, the old route by sequence: not found, alike", async () => {
  const theirs = `${telemetryBatchId(B, AGENT_B, 'b-1')}:0`;
  const mine = telemetryBatchId(A, AGENT_A, 'a-1');
  for (const path of [`/telemetry/items/${encodeURIComponent(theirs)}/proof`, `/telemetry/items/${encodeURIComponent(`${mine}:3`)}/proof`]) {
    const r = await f.call('GET', `/api/v1/tenants/${A}${path}`, { token: tokenA });
    assert.is(r.status, 404, path);
    assert.is(r.body.error.code, 'STK_ERR_NOT_FOUND');
  }
  const seq = [...(await sequencesOf(A))][0]!;
  assert.is((await f.call('GET', `/api/v1/tenants/${A}/telemetry/${seq}/proof`, { token: tokenA })).status, 404, 'the route by sequence is gone');
  const bad = await f.call('GET', `/api/v1/tenants/${A}/telemetry/items/${encodeURIComponent(`${mine}:x`)}/proof`, { token: tokenA });
  assert.is(bad.status, 400);
  assert.is(bad.body.error.code, 'STK_ERR_VALIDATION');
});

test('a batch sealed in the old format (schema 1, with firstSeq/lastSeq) still proves, and its proof shows no positions', async () => {
  const log = f.stk.runtime.log;
  const items = [aProcess(10), aProcess(11), aConnection(10)];
  const bytes = itemBytes(items);
  const subject = telemetrySubject(A, AGENT_A);
  const acks: number[] = [];
  async function* messages() {
    for (const [i, data] of bytes.entries())
      yield { subject, data, msgId: telemetryMsgId(A, AGENT_A, 'old-1', i), headers: { [BATCH_HEADER]: 'old-1', [INDEX_HEADER]: String(i) } };
  }
  await log.streams.publishAll(messages(), { window: 8, timeoutMs: 10_000, onAck: (ack) => acks.push(ack.seq) });
  // Another tenant's items stored after, before the seal: an old range may hold them.
  await store(B, AGENT_B, 'b-3', [processItem(5)]);
  const batch = telemetryBatchId(A, AGENT_A, 'old-1');
  const old = { agentId: AGENT_A, batchId: 'old-1', count: 3, merkleRoot: telemetryRoot(items), firstSeq: Math.min(...acks), lastSeq: Math.max(...acks) };
  await log.append(
    { tenant: A, aggregateType: TELEMETRY_BATCH, aggregateId: batch },
    [{ type: TelemetryEvents.batchReceived, schema: 1, data: old, actor: { kind: 'agent', id: AGENT_A } }],
    { expectedVersion: 'no_stream' },
  );
  // Read back through the log, the old payload is lifted to schema 2 and keeps what it sealed.
  const back = (await log.lastCommit({ tenant: A, aggregateType: TELEMETRY_BATCH, aggregateId: batch }))!.events[0]!;
  assert.is(back.schema, 2);
  assert.equal(back.data, old);

  const proof = await get(`/telemetry/items/${encodeURIComponent(`${batch}:2`)}/proof`);
  assert.equal(proof.item, aConnection(10));
  assert.equal(proof.batch.data, { agentId: AGENT_A, batchId: 'old-1', count: 3, merkleRoot: old.merkleRoot });
  assert.equal(checkTelemetryProof(proof), { ok: true });

  // A proof saved in format 1 (by sequence) before this change still checks offline, as it did.
  const v1 = { ...proof, format: 1, itemId: undefined, seq: Math.max(...acks), batch: { ...proof.batch, data: old } };
  assert.equal(checkTelemetryProof(v1), { ok: true });
  assert.equal(checkTelemetryProof({ ...v1, seq: old.lastSeq + 1 }), { ok: false, reason: 'the item lies outside the sequences the batch event sealed' });
  // A format-2 proof whose id names another batch or index does not check.
  assert.equal(checkTelemetryProof({ ...proof, itemId: `${batch}:1` }), { ok: false, reason: 'the item id does not name the sealed batch and the leaf index' });
  assert.equal(checkTelemetryProof({ ...proof, itemId: `${telemetryBatchId(A, AGENT_A, 'a-1')}:2` }), {
    ok: false,
    reason: 'the item id does not name the sealed batch and the leaf index',
  });
});

test('a changed item does not prove', async () => {
  const id = `${telemetryBatchId(A, AGENT_A, 'a-2')}:1`;
  const proof = await get(`/telemetry/items/${encodeURIComponent(id)}/proof`);
  assert.equal(checkTelemetryProof(proof), { ok: true });
  assert.equal(checkTelemetryProof({ ...proof, item: { ...proof.item, cmdline: 'rm -rf /' } }), {
    ok: false,
    reason: 'the item does not hash to the leaf hash',
  });
});

test.run();
