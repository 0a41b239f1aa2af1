import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { apiFixture, type ApiFixture } from '../helpers/api.ts';
import { enrollAgent, freshTenant, raiseAlert } from '../helpers/events.ts';

const test = suite('read-your-writes, lag in /metrics and /healthz');
let f: ApiFixture;
test.before(async () => {
  f = await apiFixture();
});
test.after(async () => {
  await f?.cleanup();
});

test('a command returns its position; a read that waits for it sees the change', async () => {
  const t = freshTenant();
  await f.tenant(t);
  const { agentId } = await enrollAgent(f.stk.runtime.log, t);
  // Appended straight to the log, as the ingress does: the read waits for the projection.
  const { alertId, position } = await raiseAlert(f.stk.runtime.log, t, agentId);
  const r = await f.call('GET', `/api/v1/tenants/${t}/alerts/${alertId}?waitFor=${position}`);
  assert.is(r.status, 200, JSON.stringify(r.body));
  const ack = await f.call('POST', `/api/v1/tenants/${t}/alerts/${alertId}/ack`);
  assert.is(ack.status, 200);
  assert.ok(ack.body.position > position);
  assert.is(ack.body.status, 'acknowledged', 'a command answers once its own change is readable');
  const list = await f.call('GET', `/api/v1/tenants/${t}/alerts?status=acknowledged&waitFor=${ack.body.position}`);
  assert.equal(
    list.body.items.map((a: any) => a.id),
    [alertId],
  );
  assert.ok(list.body.position >= ack.body.position);
});

test('a wait is bounded: a position the projection cannot reach answers 503 STK_ERR_PROJECTION_BEHIND', async () => {
  const t = freshTenant();
  await f.tenant(t);
  const far = (await f.stk.runtime.log.lastPosition()) + 1000;
  const r = await f.call('GET', `/api/v1/tenants/${t}/alerts?waitFor=${far}&waitMs=200`);
  assert.is(r.status, 503);
  assert.is(r.body.error.code, 'STK_ERR_PROJECTION_BEHIND');
  assert.is(r.body.error.data.position, far);
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
