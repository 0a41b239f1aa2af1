import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { apiFixture, type ApiFixture } from '../helpers/api.ts';
import { newId } from '../../src/ids.ts';
import { enrollAgent, freshTenant, raiseAlert, readToken } from '../helpers/events.ts';

const test = suite('read-your-writes, lag in /metrics and /healthz');
let f: ApiFixture;
test.before(async () => {
  f = await apiFixture();
});
test.after(async () => {
  await f?.cleanup();
});

test('a command returns a read token; a read that waits for it sees the change', async () => {
  const t = freshTenant();
  await f.tenant(t);
  const { agentId } = await enrollAgent(f.stk.runtime.log, t);
  // Appended straight to the log, as the ingress does: the read waits for the projection.
  const { alertId, position } = await raiseAlert(f.stk.runtime.log, t, agentId);
  const r = await f.call('GET', `/api/v1/tenants/${t}/alerts/${alertId}?waitFor=${await readToken(f.stk.runtime.streams, t, position)}`);
  assert.is(r.status, 200, JSON.stringify(r.body));
  const ack = await f.call('POST', `/api/v1/tenants/${t}/alerts/${alertId}/ack`);
  assert.is(ack.status, 200);
  assert.match(ack.body.consistencyToken, /^c1\.[A-Za-z0-9_-]{48}$/);
  assert.is(ack.body.status, 'acknowledged', 'a command answers once its own change is readable');
  const list = await f.call('GET', `/api/v1/tenants/${t}/alerts?status=acknowledged&waitFor=${ack.body.consistencyToken}`);
  assert.equal(
    list.body.items.map((a: any) => a.id),
    [alertId],
  );
  assert.type(list.body.consistencyToken, 'string');
});

test('a wait is bounded: a token the projection cannot reach answers 503 STK_ERR_PROJECTION_BEHIND, naming no position', async () => {
  const t = freshTenant();
  await f.tenant(t);
  const far = (await f.stk.runtime.log.lastPosition()) + 1000;
  const r = await f.call('GET', `/api/v1/tenants/${t}/alerts?waitFor=${await readToken(f.stk.runtime.streams, t, far)}&waitMs=200`);
  assert.is(r.status, 503);
  assert.is(r.body.error.code, 'STK_ERR_PROJECTION_BEHIND');
  assert.not.ok(JSON.stringify(r.body).includes(String(far)), 'the install-wide position is not in the answer');
});

test("read tokens are per tenant: another tenant's token, an altered one or a made-up one is refused with 400", async () => {
  const a = freshTenant();
  const b = freshTenant();
  await f.tenant(a);
  await f.tenant(b);
  const opA = await f.token(a, 'operator');
  const listA = await f.call('GET', `/api/v1/tenants/${a}/alerts`, { token: opA });
  const tokenA = listA.body.consistencyToken as string;
  const inB = await f.call('GET', `/api/v1/tenants/${b}/alerts?waitFor=${tokenA}`);
  assert.is(inB.status, 400);
  assert.is(inB.body.error.code, 'STK_ERR_VALIDATION');
  const flipped = tokenA.slice(0, -2) + (tokenA.endsWith('AA') ? 'AB' : 'AA');
  assert.is((await f.call('GET', `/api/v1/tenants/${a}/alerts?waitFor=${flipped}`, { token: opA })).status, 400);
  assert.is((await f.call('GET', `/api/v1/tenants/${a}/alerts?waitFor=1234`, { token: opA })).status, 400);
  assert.is((await f.call('GET', `/api/v1/tenants/${a}/alerts?waitFor=${tokenA}`, { token: opA })).status, 200);
});

test("nothing a tenant receives moves while only another tenant writes: B's activity is invisible to A", async () => {
  const a = freshTenant();
  const b = freshTenant();
  await f.tenant(a);
  await f.tenant(b);
  const opA = await f.token(a, 'operator');
  const paths = ['overview', 'alerts', 'agents', 'incidents', 'commands', 'audit', 'ledger', ''].map((p) => `/api/v1/tenants/${a}${p ? `/${p}` : ''}`);
  const read = async (): Promise<string[]> =>
    Promise.all(
      paths.map(async (p) => {
        const r = await f.call('GET', p, { token: opA });
        assert.is(r.status, 200, `${p}: ${JSON.stringify(r.body)}`);
        // Tokens are fresh ciphertexts on every answer, so they are left out of the comparison.
        return JSON.stringify(r.body, (k, v) => (k === 'consistencyToken' ? undefined : k === 'lag' ? undefined : v));
      }),
    );
  const before = await read();
  const { agentId } = await enrollAgent(f.stk.runtime.log, b);
  let last = 0;
  for (let i = 0; i < 25; i++) last = (await raiseAlert(f.stk.runtime.log, b, agentId)).position;
  assert.ok(await f.stk.runtime.readModels!.projector.waitFor(last, 10_000));
  assert.equal(await read(), before);
});

test("page cursors are sealed per tenant: they page on, show no log position, and another tenant's or an altered one is refused", async () => {
  const a = freshTenant();
  const b = freshTenant();
  await f.tenant(a);
  await f.tenant(b);
  const { agentId } = await enrollAgent(f.stk.runtime.log, a);
  const ids: string[] = [];
  let last = 0;
  for (let i = 0; i < 3; i++) {
    const r = await raiseAlert(f.stk.runtime.log, a, agentId);
    ids.push(r.alertId);
    last = r.position;
  }
  const waitFor = await readToken(f.stk.runtime.streams, a, last);
  const p1 = await f.call('GET', `/api/v1/tenants/${a}/alerts?limit=2&waitFor=${waitFor}`);
  assert.is(p1.status, 200, JSON.stringify(p1.body));
  const cursor = p1.body.nextCursor as string;
  assert.match(cursor, /^p1\.[A-Za-z0-9_-]+$/);
  // The store's own cursor holds `<16-digit sequence>!<id>`; none of it shows through the seal
  // (ciphertext bytes may happen to be digits or '!', so the check is for the plain parts themselves).
  const sealedBytes = Buffer.from(cursor.slice(3), 'base64url');
  for (const part of [String(last).padStart(16, '0').slice(0, 12), ...ids]) assert.not.ok(sealedBytes.includes(part), `the cursor shows ${part}`);
  assert.not.ok(cursor.includes(Buffer.from(String(last).padStart(16, '0')).toString('base64url').slice(0, 12)));
  const again = await f.call('GET', `/api/v1/tenants/${a}/alerts?limit=2`);
  assert.is.not(again.body.nextCursor, cursor, 'a fresh seal on every answer: equal cursors do not show equal places');
  const p2 = await f.call('GET', `/api/v1/tenants/${a}/alerts?limit=2&cursor=${cursor}`);
  assert.is(p2.status, 200, JSON.stringify(p2.body));
  assert.equal([...p1.body.items, ...p2.body.items].map((x: { id: string }) => x.id).sort(), [...ids].sort(), 'the two pages hold the three alerts once each');
  assert.is(p2.body.nextCursor, null);
  // Nor do the documents carry the log position they were made at, in a list or on their own.
  const one = await f.call('GET', `/api/v1/tenants/${a}/alerts/${ids[0]}`);
  for (const d of [...p1.body.items, ...p2.body.items, one.body]) assert.not.ok('seq' in d, `a document shows its log position: ${JSON.stringify(d)}`);

  const foreign = await f.call('GET', `/api/v1/tenants/${b}/alerts?limit=2&cursor=${cursor}`);
  assert.is(foreign.status, 400);
  assert.is(foreign.body.error.code, 'STK_ERR_VALIDATION');
  const flipped = `${cursor.slice(0, -2)}${cursor.endsWith('AA') ? 'BA' : 'AA'}`;
  const altered = await f.call('GET', `/api/v1/tenants/${a}/alerts?limit=2&cursor=${flipped}`);
  assert.is(altered.status, 400);
  const plain = Buffer.from(`${String(last).padStart(16, '0')}!${ids[0]}`).toString('base64url');
  const unsealed = await f.call('GET', `/api/v1/tenants/${a}/alerts?limit=2&cursor=${plain}`);
  assert.is(unsealed.status, 400, 'a cursor made up from a position is refused');
});

test('an item written a moment ago elsewhere is found, not 404; read models that cannot catch up answer 503 for any id, writing nothing', async () => {
  // Its own API process: this test stops its projector.
  const g = await apiFixture();
  try {
    const t = freshTenant();
    await g.tenant(t);
    // Enrolled straight into the log, as the ingress does, and a command dispatched to it at once.
    const { agentId } = await enrollAgent(g.stk.runtime.log, t, 'just-enrolled');
    const cmd = await g.call('POST', `/api/v1/tenants/${t}/agents/${agentId}/commands`, { body: { action: 'ping' } });
    assert.is(cmd.status, 201, JSON.stringify(cmd.body));
    const missing = await g.call('GET', `/api/v1/tenants/${t}/agents/${newId()}`);
    assert.equal([missing.status, missing.body.error.code], [404, 'STK_ERR_NOT_FOUND'], 'once caught up, a miss is a 404');

    // Read models that stand still: a miss cannot be told from an item they have not seen yet.
    await g.stk.runtime.readModels!.projector.stop();
    const late = await enrollAgent(g.stk.runtime.log, t, 'enrolled-while-behind');
    const before = await g.stk.runtime.log.lastPosition();
    for (const id of [late.agentId, newId()]) {
      const r = await g.call('POST', `/api/v1/tenants/${t}/agents/${id}/commands`, { body: { action: 'ping' } });
      assert.equal([r.status, r.body.error?.code], [503, 'STK_ERR_PROJECTION_BEHIND'], JSON.stringify(r.body));
    }
    assert.is(await g.stk.runtime.log.lastPosition(), before, 'a refused dispatch writes no event');
    // Known items still answer from what the read models hold.
    assert.is((await g.call('GET', `/api/v1/tenants/${t}/agents/${agentId}`)).status, 200);
  } finally {
    await g.cleanup();
  }
});

test('lag in events and seconds is exposed in /metrics and /healthz', async () => {
  const m = await f.call('GET', '/metrics', { token: null });
  assert.match(m.body, /stockade_projector_lag_events \d+/);
  assert.match(m.body, /stockade_projector_lag_seconds [\d.]+/);
  assert.match(m.body, /stockade_projector_position \d+/);
  const h = await f.call('GET', '/healthz', { token: null });
  assert.is(h.body.checks.projector.ok, true);
  assert.is(typeof h.body.checks.projector.lagEvents, 'number');
  assert.is(typeof h.body.checks.projector.lagSeconds, 'number');
});

test.run();
