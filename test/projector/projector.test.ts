import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readModelFixture } from '../helpers/readmodels.ts';
import { createTenant, enrollAgent, freshTenant, raiseAlert } from '../helpers/events.ts';
import { execute } from '../../src/domain/execute.ts';
import { alertDecider } from '../../commands/alerts/decider.ts';
import { incidentDecider } from '../../commands/incidents/decider.ts';
import { newId } from '../../src/ids.ts';
import { PROJECTIONS } from '../../projections/index.ts';

const test = suite('projector');

test('projects events into per-tenant models; lists are newest first with filters and cursors', async () => {
  const f = await readModelFixture();
  try {
    const a = freshTenant('a');
    await createTenant(f.log, a, ['edr']);
    const { agentId } = await enrollAgent(f.log, a);
    const alerts: string[] = [];
    for (let i = 0; i < 7; i++) alerts.push((await raiseAlert(f.log, a, agentId, { severity: i % 2 ? 'low' : 'high' })).alertId);
    const ack = await execute(f.log, { tenant: a, id: alerts[0]! }, alertDecider, { kind: 'acknowledge' }, { actor: { kind: 'operator', id: 'op' } });
    assert.ok(await f.projector.waitFor(ack.position, 5000));
    const s = f.projector.store.forTenant(a);
    const tenant = await s.get<any>('tenant', a);
    assert.equal(tenant.products, ['edr']);
    assert.is((await s.get<any>('agents', agentId)).status, 'active');
    assert.is((await s.get<any>('alerts', alerts[0]!)).status, 'acknowledged');

    const p1 = await s.list<any>('alerts', { limit: 3 });
    assert.equal(
      p1.items.map((d) => d.id),
      alerts.slice(-3).reverse(),
    );
    const p2 = await s.list<any>('alerts', { limit: 3, cursor: p1.nextCursor! });
    assert.equal(
      p2.items.map((d) => d.id),
      alerts.slice(1, 4).reverse(),
    );
    const p3 = await s.list<any>('alerts', { limit: 3, cursor: p2.nextCursor! });
    assert.equal(
      p3.items.map((d) => d.id),
      [alerts[0]],
    );
    assert.is(p3.nextCursor, null);
    const low = await s.list<any>('alerts', { filter: { severity: 'low' } });
    assert.equal(
      low.items.map((d) => d.id),
      [alerts[5], alerts[3], alerts[1]],
    );
    const ackd = await s.list<any>('alerts', { filter: { status: 'acknowledged' } });
    assert.equal(
      ackd.items.map((d) => d.id),
      [alerts[0]],
    );
    assert.is((await s.list<any>('alerts', { filter: { status: 'open' } })).items.length, 6);
    assert.is(await s.count('alerts', { field: 'status', value: 'open' }), 6);
    // One audit entry per event, newest first.
    const audit = await s.list<any>('audit', { limit: 1 });
    assert.is(audit.items[0].action, 'alert.acknowledged');
  } finally {
    await f.cleanup();
  }
});

test('an incident links only alerts of its own tenant', async () => {
  const f = await readModelFixture();
  try {
    const a = freshTenant('a');
    const b = freshTenant('b');
    await createTenant(f.log, a);
    await createTenant(f.log, b);
    const agA = (await enrollAgent(f.log, a)).agentId;
    const agB = (await enrollAgent(f.log, b)).agentId;
    const alA = (await raiseAlert(f.log, a, agA)).alertId;
    const alB = (await raiseAlert(f.log, b, agB)).alertId;
    const inc = newId();
    // The API refuses a foreign alert id; even an event that names one cannot reach the other tenant.
    const r = await execute(
      f.log,
      { tenant: a, id: inc },
      incidentDecider,
      { kind: 'open', incident: { title: 'x', severity: 'high', alertIds: [alA, alB] } },
      { actor: { kind: 'operator', id: 'op' }, known: 'new' },
    );
    assert.ok(await f.projector.waitFor(r.position, 5000));
    assert.is((await f.projector.store.forTenant(a).get<any>('alerts', alA)).incidentId, inc);
    assert.is((await f.projector.store.forTenant(b).get<any>('alerts', alB)).incidentId, null);
    assert.is(await f.projector.store.forTenant(a).get('alerts', alB), null);
  } finally {
    await f.cleanup();
  }
});

test('a restart resumes from the stored position; a rebuild gives identical models and swaps without downtime', async () => {
  const f = await readModelFixture();
  try {
    const a = freshTenant('a');
    await createTenant(f.log, a, ['edr']);
    const { agentId } = await enrollAgent(f.log, a);
    let last = 0;
    for (let i = 0; i < 50; i++) last = (await raiseAlert(f.log, a, agentId)).position;
    assert.ok(await f.projector.waitFor(last, 5000));
    await f.stopProjector();
    // Written while the projector is down: picked up exactly once after the restart.
    for (let i = 0; i < 20; i++) last = (await raiseAlert(f.log, a, agentId)).position;
    const p = await f.restartProjector();
    assert.ok(await p.waitFor(last, 5000));
    assert.is(await p.store.forTenant(a).count('alerts'), 70);
    assert.is(await p.store.forTenant(a).count('audit'), 70 + 2 + 2);
    const before = new Map<string, unknown>();
    for (const m of PROJECTIONS) before.set(m.model, await p.store.admin.dump(m.model));
    const rebuilding = p.rebuild();
    // Queries keep answering from the live generation while the rebuild runs.
    assert.is(await p.store.forTenant(a).count('alerts'), 70);
    const r = await rebuilding;
    assert.ok(r.events >= 74);
    for (const m of PROJECTIONS) assert.equal(await p.store.admin.dump(m.model), before.get(m.model), `model ${m.model}`);
    // The live projector carries on into the new generation.
    last = (await raiseAlert(f.log, a, agentId)).position;
    assert.ok(await p.waitFor(last, 5000));
    assert.is(await p.store.forTenant(a).count('alerts'), 71);
  } finally {
    await f.cleanup();
  }
});

test('a rebuild while events keep arriving swaps in a model that misses none of them', async () => {
  const f = await readModelFixture();
  try {
    const a = freshTenant('a');
    await createTenant(f.log, a);
    const { agentId } = await enrollAgent(f.log, a);
    for (let i = 0; i < 200; i++) await raiseAlert(f.log, a, agentId);
    let writing = true;
    let written = 200;
    const writer = (async () => {
      while (writing || written < 400) {
        await raiseAlert(f.log, a, agentId);
        written++;
      }
    })();
    const r = await f.projector.rebuild(['alerts', 'audit']);
    writing = false;
    await writer;
    assert.ok(await f.projector.waitFor(await f.log.lastPosition(), 10_000));
    assert.ok(r.position >= 200);
    assert.is(await f.projector.store.forTenant(a).count('alerts'), written);
    const live = await f.projector.store.admin.dump('alerts');
    await f.projector.rebuild(['alerts']);
    assert.equal(await f.projector.store.admin.dump('alerts'), live);
  } finally {
    await f.cleanup();
  }
});

test.run();
