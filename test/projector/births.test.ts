import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readModelFixture } from '../helpers/readmodels.ts';
import { createTenant, enrollAgent, freshTenant } from '../helpers/events.ts';
import { execute } from '../../src/domain/execute.ts';
import { planReport, writeReport } from '../../src/ingress/report.ts';
import { alertDecider } from '../../commands/alerts/decider.ts';

const test = suite('projector: a report is one commit with its alerts and findings born in it');

test('born alerts and findings are projected like any other, acted on later, and rebuilt the same', async () => {
  const f = await readModelFixture();
  try {
    const t = freshTenant('b');
    await createTenant(f.log, t, ['edr', 'patch']);
    const { agentId } = await enrollAgent(f.log, t);
    const agent = { tenant: t, agentId, version: 1, revoked: false };
    const at = new Date().toISOString();
    const plan = planReport(agent, ['edr', 'patch'], {
      agentId,
      batchId: 'batch-1',
      events: [
        { kind: 'heartbeat', at, data: {} },
        { kind: 'alert', at, data: { rule: 'edr.x', severity: 'high', title: 'first' } },
        { kind: 'alert', at, data: { rule: 'edr.x', severity: 'low', title: 'second' } },
        { kind: 'finding', at, data: { title: 'missing patch', severity: 'medium', subject: 'openssl' } },
      ],
    });
    assert.ok(plan.ok);
    const before = await f.log.lastPosition();
    const written = await writeReport(f.log, agent, plan);
    assert.is(written.position, before + 1, 'one commit');
    assert.is(written.events, 4);
    assert.ok(await f.projector.waitFor(written.position, 10_000));
    const s = f.projector.store.forTenant(t);
    const alerts = (await s.list<{ id: string; seq: number; title: string; status: string; agentId: string }>('alerts', {})).items;
    assert.equal(alerts.map((a) => a.title).sort(), ['first', 'second']);
    assert.ok(alerts.every((a) => a.status === 'open' && a.agentId === agentId));
    assert.is((await s.list('findings', {})).items.length, 1);
    assert.ok((await s.get('agents', agentId)) !== undefined);

    // An operator acknowledges one: its change goes to the alert's own subject, and the model follows.
    const first = alerts.find((a) => a.title === 'first')!;
    const ack = await execute(f.log, { tenant: t, id: first.id }, alertDecider, { kind: 'acknowledge' }, { actor: { kind: 'operator', id: 'op' } });
    assert.is(ack.version, 2);
    assert.ok(await f.projector.waitFor(ack.position, 10_000));
    assert.is((await s.get<{ id: string; seq: number; status: string }>('alerts', first.id))?.status, 'acknowledged');

    const live = await s.list('alerts', {});
    await f.projector.rebuild();
    assert.equal(await s.list('alerts', {}), live);
  } finally {
    await f.cleanup();
  }
});

test.run();
