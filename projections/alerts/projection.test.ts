import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AlertEvents as E } from '../../commands/alerts/events.ts';
import { IncidentEvents } from '../../commands/incidents/events.ts';
import { event, run } from '../testing.ts';
import { alertsProjection } from './projection.ts';

const test = suite('projection: alerts');
const raised = (id: string, tenant = 't') =>
  event(E.raised, { type: 'alert', id }, { agentId: 'ag', product: null, rule: 'r', severity: 'high', title: 'x', observedAt: 'o' }, { tenant });

test("status, who acknowledged and resolved, and the incident link, in the alert's own tenant only", () => {
  const { docs } = run(alertsProjection, [
    raised('a1'),
    raised('a2'),
    raised('b1', 'other'),
    event(E.acknowledged, { type: 'alert', id: 'a1' }, {}, { actor: { kind: 'operator', id: 'token:k' } }),
    event(E.resolved, { type: 'alert', id: 'a2' }, { reason: 'benign' }),
    event(IncidentEvents.opened, { type: 'incident', id: 'i1' }, { title: 't', severity: 'high', alertIds: ['a1', 'b1'] }),
  ]);
  assert.is(docs.get('t/alerts/a1')!.status, 'acknowledged');
  assert.is(docs.get('t/alerts/a1')!.acknowledgedBy, 'operator:token:k');
  assert.is(docs.get('t/alerts/a1')!.incidentId, 'i1');
  assert.is(docs.get('t/alerts/a2')!.resolution, 'benign');
  assert.is(docs.get('t/alerts/a1')!.product, 'core');
  assert.is(docs.get('other/alerts/b1')!.incidentId, null, "an incident never links another tenant's alert");
  assert.is(docs.get('t/alerts/b1'), undefined);
});

test.run();
