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

const grouped = suite('projection: alerts of the detector');

grouped('a detector alert carries its rule, host and group; occurrences move count and last-seen and add refs up to the cap', () => {
  const detection = {
    ruleId: 'r1',
    ruleVersion: '0123456789abcdef',
    overrideVersion: null,
    attack: ['T1059.004'],
    tags: ['attack.t1059.004'],
    logsource: 'linux/process_creation',
    hostname: 'web-01',
    groupKey: 'g'.repeat(43),
    groupValues: [],
    windowMs: 3_600_000,
    firstSeenAt: '2026-03-01T10:00:00.000Z',
    lastSeenAt: '2026-03-01T10:00:01.000Z',
    refs: [
      { stream: 'TELEMETRY', seq: 7 },
      { stream: 'TELEMETRY', seq: 9 },
    ],
  };
  const many = Array.from({ length: 150 }, (_, i) => 100 + i);
  const { docs } = run(alertsProjection, [
    event(
      E.raised,
      { type: 'alert', id: 'd1' },
      { agentId: 'ag', product: 'edr', rule: 'r1', severity: 'high', title: 'x', observedAt: detection.firstSeenAt, detection },
    ),
    event(E.occurred, { type: 'alert', id: 'd1' }, { stream: 'TELEMETRY', seqs: [12], count: 3, lastSeenAt: '2026-03-01T10:05:00.000Z' }),
    // A late batch never moves last-seen backwards.
    event(E.occurred, { type: 'alert', id: 'd1' }, { stream: 'TELEMETRY', seqs: many, count: 153, lastSeenAt: '2026-03-01T10:04:00.000Z' }),
    raised('plain'),
  ]);
  const d = docs.get('t/alerts/d1')!;
  assert.is(d.count, 153);
  assert.is(d.firstSeenAt, '2026-03-01T10:00:00.000Z');
  assert.is(d.lastSeenAt, '2026-03-01T10:05:00.000Z');
  assert.is(d.hostname, 'web-01');
  assert.equal(d.attack, ['T1059.004']);
  assert.is(d.ruleVersion, '0123456789abcdef');
  assert.is((d.refs as unknown[]).length, 100);
  assert.equal((d.refs as unknown[]).slice(0, 3), [
    { stream: 'TELEMETRY', seq: 7 },
    { stream: 'TELEMETRY', seq: 9 },
    { stream: 'TELEMETRY', seq: 12 },
  ]);
  const p = docs.get('t/alerts/plain')!;
  assert.is(p.count, 1);
  assert.is(p.hostname, null);
  assert.equal(p.refs, []);
});

grouped.run();
