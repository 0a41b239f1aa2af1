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

test('hourly buckets count alerts by severity, rule and agent, per tenant, bounded in distinct keys', () => {
  const at = (m: string) => ({ at: `2026-01-01T10:${m}:00.000Z` });
  const raise = (id: string, severity: string, rule: string, agentId: string, o: { at: string; tenant?: string }) =>
    event(E.raised, { type: 'alert', id }, { agentId, product: null, rule, severity, title: 'x', observedAt: 'o' }, o);
  const { docs } = run(alertsProjection, [
    raise('a1', 'high', 'r1', 'ag1', at('01')),
    raise('a2', 'high', 'r1', 'ag2', at('59')),
    raise('a3', 'low', 'r2', 'ag1', { at: '2026-01-01T11:00:00.000Z' }),
    raise('b1', 'critical', 'r9', 'bg', { ...at('30'), tenant: 'other' }),
    ...Array.from({ length: 120 }, (_, i) => raise(`m${i}`, 'medium', `many-${i}`, 'ag1', at('30'))),
  ]);
  const h10 = docs.get('t/alert-hours/2026-01-01T10')!;
  assert.is(h10.high, 2);
  assert.is(h10.medium, 120);
  assert.is(h10.critical, 0, "another tenant's alert is in its own bucket");
  assert.is((h10.rules as Record<string, number>).r1, 2);
  assert.is((h10.agents as Record<string, number>).ag1, 121);
  assert.is(Object.keys(h10.rules as object).length, 101, '100 rules and "other"');
  assert.is((h10.rules as Record<string, number>).other, 21);
  assert.is(h10.hour, '2026-01-01T10:00:00.000Z');
  assert.is(docs.get('t/alert-hours/2026-01-01T11')!.low, 1);
  assert.is(docs.get('other/alert-hours/2026-01-01T10')!.critical, 1);
});

test.run();
