import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { IncidentEvents as E } from '../../commands/incidents/events.ts';
import { event, run } from '../testing.ts';
import { incidentsProjection } from './projection.ts';

const test = suite('projection: incidents');

test('an incident keeps its assignee, status, linked alerts and a timeline of who changed what', () => {
  const agg = { type: 'incident', id: 'i1' };
  const { docs } = run(incidentsProjection, [
    event(E.opened, agg, { title: 'Ransomware', severity: 'critical', alertIds: ['a1'] }),
    event(E.assigned, agg, { assignee: 'ana' }),
    event(E.statusChanged, agg, { status: 'contained' }),
    event(E.alertsLinked, agg, { alertIds: ['a2'] }),
    event(E.closed, agg, { reason: 'restored from backup' }),
  ]);
  const d = docs.get('t/incidents/i1')!;
  assert.is(d.assignee, 'ana');
  assert.is(d.status, 'closed');
  assert.equal(d.alertIds, ['a1', 'a2']);
  assert.equal(
    (d.timeline as Array<{ change: string }>).map((s) => s.change),
    ['opened', 'assigned to ana', 'status contained', 'linked 1 alert(s)', 'closed'],
  );
});

test('cleared assignee, new title and severity, comments, and a reopen, each on the timeline', () => {
  const agg = { type: 'incident', id: 'i2' };
  const { docs } = run(incidentsProjection, [
    event(E.opened, agg, { title: 'Phish', severity: 'low', alertIds: [] }),
    event(E.assigned, agg, { assignee: 'ana' }),
    event(E.unassigned, agg, {}),
    event(E.retitled, agg, { title: 'Phishing wave' }),
    event(E.severityChanged, agg, { severity: 'high' }),
    event(E.commented, agg, { text: 'three mailboxes hit' }, { actor: { kind: 'operator', id: 'token:k1' } }),
    event(E.closed, agg, { reason: 'blocked sender' }),
    event(E.reopened, agg, { reason: 'a fourth mailbox' }),
  ]);
  const d = docs.get('t/incidents/i2')!;
  assert.is(d.assignee, null);
  assert.is(d.title, 'Phishing wave');
  assert.is(d.severity, 'high');
  assert.is(d.status, 'open');
  assert.is(d.closedAt, null);
  assert.equal(d.comments, [{ at: (d.comments as Array<{ at: string }>)[0]!.at, by: 'operator:token:k1', text: 'three mailboxes hit' }]);
  assert.equal(
    (d.timeline as Array<{ change: string }>).map((s) => s.change),
    ['opened', 'assigned to ana', 'unassigned', 'title changed to "Phishing wave"', 'severity high', 'commented', 'closed', 'reopened: a fourth mailbox'],
  );
});

test.run();
