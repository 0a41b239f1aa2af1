/**
 * `POST /agent/v1/evidence` refuses bad uploads with a clear 4xx and stores and writes nothing:
 * another agent's command, a command that is not collect-evidence, bytes whose hash is not the
 * declared one, a body over the limit, a product that is off. A good upload sent twice is stored once.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { IngressClient } from '../../src/agent/run/client.ts';
import { sha256Hex } from '../../src/evidence/store.ts';
import { evidenceIdOf } from '../../src/ingress/routes-evidence.ts';
import { createTenant, dispatch, enroll, type IngressFixture, ingressFixture, setProduct } from '../ingress/fixture.ts';

const test = suite('evidence uploads at the ingress');
let f: IngressFixture;
let tenant: string;
let a: IngressClient;
let b: IngressClient;

test.before(async () => {
  f = await ingressFixture({ evidenceMaxBytes: 1024 });
  const t = await createTenant(f.log, ['edr']);
  tenant = t.tenant;
  a = new IngressClient((await enroll(f, t.secret)).state);
  b = new IngressClient((await enroll(f, t.secret)).state);
});
test.after(async () => {
  a?.close();
  b?.close();
  await f?.close();
});

const bucketStream = () => `OBJ_stk-evidence-${tenant}`;
async function written(): Promise<{ events: number; objects: number }> {
  return { events: await f.log.lastPosition(), objects: (await f.log.streams.state(bucketStream()))?.messages ?? 0 };
}

test('bad uploads get a clear 4xx and nothing is stored or written', async () => {
  const body = Buffer.from('the file the agent read');
  const sha = sha256Hex(body);
  const collect = await dispatch(f.log, tenant, a.agentId, 'collect-evidence', { path: '/etc/hosts' });
  const ping = await dispatch(f.log, tenant, a.agentId, 'ping');
  const before = await written();
  const foreign = await b.evidence(collect, '/etc/hosts', sha, body);
  assert.equal([foreign.status, (foreign.body as any).error.code], [404, 'STK_ERR_NOT_FOUND']);
  const wrongAction = await a.evidence(ping, '/etc/hosts', sha, body);
  assert.equal([wrongAction.status, (wrongAction.body as any).error.code], [400, 'STK_ERR_VALIDATION']);
  const wrongHash = await a.evidence(collect, '/etc/hosts', 'e'.repeat(64), body);
  assert.equal([wrongHash.status, (wrongHash.body as any).error.code], [400, 'STK_ERR_EVIDENCE_HASH_MISMATCH']);
  assert.equal((wrongHash.body as any).error.data, { expected: 'e'.repeat(64), actual: sha });
  const big = Buffer.alloc(2048, 1);
  const tooLarge = await a.evidence(collect, '/etc/hosts', sha256Hex(big), big);
  assert.equal([tooLarge.status, (tooLarge.body as any).error.code], [413, 'STK_ERR_BODY_TOO_LARGE']);
  const json = await a.send('POST', `/agent/v1/evidence?agentId=${a.agentId}&commandId=${collect}&sha256=${sha}&name=x`, { not: 'bytes' });
  assert.is(json.status, 415);
  await setProduct(f.log, tenant, 'edr', false);
  const off = await a.evidence(collect, '/etc/hosts', sha, body);
  assert.equal([off.status, (off.body as any).error.code], [403, 'STK_ERR_PRODUCT_DISABLED']);
  await setProduct(f.log, tenant, 'edr', true);
  const after = await written();
  assert.is(after.objects, before.objects, 'no object stored');
  // Only the two product switches were written.
  assert.is(after.events, before.events + 2);
});

test('a good upload is stored under an id derived from the command; sent again it stores nothing new', async () => {
  const body = Buffer.from('evidence bytes');
  const sha = sha256Hex(body);
  const collect = await dispatch(f.log, tenant, a.agentId, 'collect-evidence', { path: '/var/log/x' });
  const first = await a.evidence(collect, '/var/log/x', sha, body);
  assert.is(first.status, 201, JSON.stringify(first.body));
  const id = evidenceIdOf(tenant, a.agentId, collect);
  assert.equal([(first.body as any).evidenceId, (first.body as any).duplicate], [id, false]);
  const mid = await written();
  const again = await a.evidence(collect, '/var/log/x', sha, body);
  assert.equal([again.status, (again.body as any).duplicate], [201, true]);
  assert.equal(await written(), mid);
  const other = Buffer.from('other bytes for the same command');
  const conflict = await a.evidence(collect, '/var/log/x', sha256Hex(other), other);
  assert.equal([conflict.status, (conflict.body as any).error.code], [400, 'STK_ERR_EVIDENCE_HASH_MISMATCH']);
  assert.equal(await written(), mid);
  const events = (await f.log.readAggregate({ tenant, aggregateType: 'evidence', aggregateId: id })).events;
  assert.equal(
    events.map((e) => e.type),
    ['evidence.collected', 'evidence.transferred'],
  );
  assert.equal(events[0]!.actor, { kind: 'agent', id: a.agentId });
});

test.run();
