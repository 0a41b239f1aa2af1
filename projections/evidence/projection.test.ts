import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EvidenceEvents as E } from '../../commands/evidence/events.ts';
import { event, run } from '../testing.ts';
import { evidenceProjection } from './projection.ts';

const test = suite('projection: evidence');

test('the chain of custody keeps every step in order, with who, when, from and to', () => {
  const agg = { type: 'evidence', id: 'e1' };
  const { docs } = run(evidenceProjection, [
    event(E.collected, agg, { agentId: 'ag', name: 'm.dmp', sha256: 'c'.repeat(64), sizeBytes: 9, collectedAt: 'x' }, { actor: { kind: 'agent', id: 'ag' } }),
    event(E.transferred, agg, { from: 'agent:ag', to: 'lab', note: 'courier' }),
    event(E.sealed, agg, { by: 'admin', note: 'case closed' }),
  ]);
  const d = docs.get('t/evidence/e1')!;
  assert.equal(
    (d.custody as Array<{ action: string }>).map((s) => s.action),
    ['collected', 'transferred', 'sealed'],
  );
  assert.is(d.holder, 'lab');
  assert.is(d.sealed, true);
  assert.is((d.custody as Array<{ by: string }>)[0]!.by, 'agent:ag');
});

test.run();
