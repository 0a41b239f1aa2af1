import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { event, run } from '../testing.ts';
import { auditProjection } from './projection.ts';

const test = suite('projection: audit');

test('one entry per event: who, what, when, outcome; no payload (no secret can reach it)', () => {
  const e1 = event('token.created', { type: 'token', id: 'k1' }, { role: 'operator', lookup: 'L', hash: 'H', label: '' });
  const e2 = event('command.completed', { type: 'command', id: 'c1' }, { outcome: 'failed', output: 'x' }, { actor: { kind: 'agent', id: 'ag' } });
  const { docs } = run(auditProjection, [e1, e2]);
  const a = docs.get(`t/audit/${e1.id}`)!;
  assert.equal(
    { ...a },
    { id: e1.id, seq: 1, at: e1.at, actorKind: 'operator', actorId: 'admin', action: 'token.created', aggregateType: 'token', targetId: 'k1', outcome: 'ok' },
  );
  assert.is(docs.get(`t/audit/${e2.id}`)!.outcome, 'failed');
  assert.not.ok(JSON.stringify([...docs.values()]).includes('"H"'));
});

test.run();
