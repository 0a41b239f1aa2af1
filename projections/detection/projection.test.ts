import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DETECTION, DetectionEvents as E } from '../../commands/detection/events.ts';
import { event, run } from '../testing.ts';
import { detectionProjection } from './projection.ts';

const test = suite('projection: detection settings');
const agg = { type: DETECTION, id: 'settings' };

test("settings and custom rules with who changed them, in the tenant's own document", () => {
  const { docs } = run(detectionProjection, [
    event(E.ruleConfigured, agg, { ruleId: 'r1', setting: { level: 'low' } }, { actor: { kind: 'operator', id: 'token:a' } }),
    event(E.ruleConfigured, agg, { ruleId: 'r2', setting: { enabled: false } }),
    event(E.customRuleSaved, agg, { ruleId: 'c1', name: 'c1.yml', title: 'C1', version: 'v1', yaml: 'y' }),
    event(E.ruleReset, agg, { ruleId: 'r2' }),
    event(E.customRuleSaved, agg, { ruleId: 'c2', name: 'c2.yml', title: 'C2', version: 'v1', yaml: 'y' }),
    event(E.customRuleRemoved, agg, { ruleId: 'c2' }),
    event(E.ruleConfigured, agg, { ruleId: 'r9', setting: { level: 'high' } }, { tenant: 'other' }),
  ]);
  const d = docs.get('t/detection/t')!;
  assert.equal(Object.keys(d.rules as object), ['r1']);
  assert.is((d.rules as Record<string, { changedBy: string }>).r1!.changedBy, 'operator:token:a');
  assert.equal(Object.keys(d.custom as object), ['c1']);
  assert.equal(Object.keys(docs.get('other/detection/other')!.rules as object), ['r9']);
});

test.run();
