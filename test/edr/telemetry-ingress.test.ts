/**
 * `POST /agent/v1/telemetry` through the real mTLS ingress: a batch is checked whole (schema,
 * sizes, products, Merkle root) before anything is written; accepted items land in TELEMETRY one
 * message per item as canonical JSON, and one `telemetry.batch-received` event seals the root.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { IngressClient } from '../../src/agent/run/client.ts';
import { telemetryBatchId } from '../../src/telemetry/ids.ts';
import { canonicalJson } from '../../src/merkle/mod.ts';
import { TELEMETRY_MAX_ITEMS, telemetryRoot } from '../../src/telemetry/items.ts';
import { TELEMETRY_STREAM, telemetryTenantFilter } from '../../src/telemetry/stream.ts';
import { createTenant, enroll, type IngressFixture, ingressFixture, setProduct } from '../ingress/fixture.ts';
import { accountItem, connectionItem, processItem } from './items.ts';

const test = suite('telemetry at the ingress');
let f: IngressFixture;
let tenant: string;
let agent: IngressClient;
let other: IngressClient;

test.before(async () => {
  f = await ingressFixture();
  const t = await createTenant(f.log, ['edr']);
  tenant = t.tenant;
  agent = new IngressClient((await enroll(f, t.secret)).state);
  other = new IngressClient((await enroll(f, t.secret)).state);
});
test.after(async () => {
  agent?.close();
  other?.close();
  await f?.close();
});

/** How many messages TELEMETRY and EVENTS hold now: a refused batch must leave both as they were. */
async function counts(): Promise<{ telemetry: number; events: number }> {
  return { telemetry: (await f.log.streams.state(TELEMETRY_STREAM))?.messages ?? 0, events: await f.log.lastPosition() };
}

const batchOf = (batchId: string, items: object[]) => ({ batchId, merkleRoot: telemetryRoot(items), items: items as never });

test('a batch is stored one message per item, as canonical JSON, and sealed by one event (schema 2) with its root and no stream position', async () => {
  const items = [processItem(101), connectionItem(443), processItem(102, { cmdline: 'ünïcode "quoted"' })];
  const r = await agent.telemetry(batchOf('b-first', items));
  assert.is(r.status, 202, JSON.stringify(r.body));
  assert.equal([r.body.accepted, r.body.duplicate, r.body.merkleRoot], [3, false, telemetryRoot(items)]);
  const stored = [];
  for await (const m of f.log.streams.scan(TELEMETRY_STREAM, { filter: telemetryTenantFilter(tenant) })) stored.push(m);
  assert.is(stored.length, 3);
  for (const [i, m] of stored.entries()) {
    assert.equal(Buffer.from(m.data), Buffer.from(canonicalJson(items[i])), `item ${i} is stored as its canonical JSON`);
    assert.is(m.subject, `tm.${m.subject.split('.')[1]}.${tenant}.${agent.agentId}`);
    assert.is(m.headers?.get('Stk-Batch'), 'b-first');
    assert.is(m.headers?.get('Stk-Index'), String(i));
  }
  const sealed = await f.log.lastCommit({ tenant, aggregateType: 'telemetry', aggregateId: telemetryBatchId(tenant, agent.agentId, 'b-first') });
  assert.ok(sealed);
  assert.is(sealed!.events.length, 1);
  assert.is(sealed!.events[0]!.type, 'telemetry.batch-received');
  assert.equal(sealed!.events[0]!.data, {
    agentId: agent.agentId,
    batchId: 'b-first',
    count: 3,
    merkleRoot: telemetryRoot(items),
  });
  assert.is(sealed!.events[0]!.schema, 2);
  assert.equal(sealed!.events[0]!.actor, { kind: 'agent', id: agent.agentId });
});

test('the same batch again is a retry: 202, nothing stored or sealed twice; other items under its id: 409, nothing written', async () => {
  const items = [processItem(201), processItem(202)];
  assert.is((await agent.telemetry(batchOf('b-retry', items))).status, 202);
  const before = await counts();
  const again = await agent.telemetry(batchOf('b-retry', items));
  assert.is(again.status, 202, JSON.stringify(again.body));
  assert.is(again.body.duplicate, true);
  assert.equal(await counts(), before);
  const conflict = await agent.telemetry(batchOf('b-retry', [processItem(203)]));
  assert.is(conflict.status, 409);
  assert.is(conflict.body.error.code, 'STK_ERR_TELEMETRY_BATCH_CONFLICT');
  assert.equal(await counts(), before);
});

test('bad input from an agent gets a clear 4xx and writes nothing in TELEMETRY or EVENTS', async () => {
  const before = await counts();
  const items = [processItem(301), connectionItem(80)];
  // A root that does not match the items (one bit off, or the root of other items).
  const wrong = await agent.telemetry({ batchId: 'b-bad-root', merkleRoot: telemetryRoot([processItem(301)]), items: items as never });
  assert.is(wrong.status, 400);
  assert.is(wrong.body.error.code, 'STK_ERR_TELEMETRY_ROOT_MISMATCH');
  assert.equal(wrong.body.error.data, { field: 'merkleRoot', expected: telemetryRoot(items), actual: telemetryRoot([processItem(301)]) });
  // An unknown kind, an unknown field, a missing field.
  for (const bad of [
    { kind: 'registry', key: 'x' },
    { ...processItem(302), extra: 1 },
    { ...connectionItem(1), pid: undefined },
  ]) {
    const r = await agent.telemetry({ batchId: 'b-bad-item', merkleRoot: 'a'.repeat(64), items: [bad] as never });
    assert.is(r.status, 400, JSON.stringify(bad));
    assert.is(r.body.error.code, 'STK_ERR_VALIDATION');
  }
  // Too many items; a body over the limit.
  const many = Array.from({ length: TELEMETRY_MAX_ITEMS + 1 }, (_, i) => connectionItem(i));
  const tooMany = await agent.telemetry(batchOf('b-many', many));
  assert.is(tooMany.status, 400);
  const huge = Array.from({ length: 80 }, (_, i) => processItem(400 + i, { cmdline: 'x'.repeat(60_000) }));
  const tooLarge = await agent.telemetry(batchOf('b-huge', huge));
  assert.is(tooLarge.status, 413);
  assert.is(tooLarge.body.error.code, 'STK_ERR_BODY_TOO_LARGE');
  // An item of a product that is off (identity), and another agent's id in the body.
  const off = await agent.telemetry(batchOf('b-off', [processItem(303), accountItem('mallory')]));
  assert.is(off.status, 403);
  assert.equal([off.body.error.code, off.body.error.data.product], ['STK_ERR_PRODUCT_DISABLED', 'identity']);
  const spoofed = await agent.send<any>('POST', '/agent/v1/telemetry', { agentId: other.agentId, ...batchOf('b-spoof', items) });
  assert.is(spoofed.status, 403);
  assert.is(spoofed.body.error.code, 'STK_ERR_AGENT_ID_MISMATCH');
  assert.equal(await counts(), before);
});

test('switching a product off refuses its telemetry from the next batch on', async () => {
  await setProduct(f.log, tenant, 'identity', true);
  assert.is((await agent.telemetry(batchOf('b-identity-on', [accountItem('alice')]))).status, 202);
  await setProduct(f.log, tenant, 'edr', false);
  const r = await agent.telemetry(batchOf('b-edr-off', [processItem(501)]));
  assert.is(r.status, 403);
  assert.is(r.body.error.data.product, 'edr');
  await setProduct(f.log, tenant, 'edr', true);
});

test.run();
