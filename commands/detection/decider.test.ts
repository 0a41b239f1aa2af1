import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ev, spec } from '../../test/helpers/spec.ts';
import { configOf, detectionDecider } from './decider.ts';
import { DetectionEvents as E } from './events.ts';

const test = suite('detection settings decider');
const custom = { ruleId: 'c1', name: 'c1.yml', title: 'C1', version: 'v1', yaml: 'title: C1' };

test('a setting is replaced whole; the same setting again and resetting an unset rule write nothing', () => {
  spec(detectionDecider)
    .given([])
    .when({ kind: 'configure', ruleId: 'r', setting: { level: 'low' } })
    .then([E.ruleConfigured], [{ ruleId: 'r', setting: { level: 'low' } }]);
  spec(detectionDecider)
    .given([ev(E.ruleConfigured, { ruleId: 'r', setting: { level: 'low' } })])
    .when({ kind: 'configure', ruleId: 'r', setting: { level: 'low' } })
    .then([]);
  spec(detectionDecider).given([]).when({ kind: 'reset', ruleId: 'r' }).then([]);
  spec(detectionDecider)
    .given([ev(E.ruleConfigured, { ruleId: 'r', setting: { enabled: false } })])
    .when({ kind: 'reset', ruleId: 'r' })
    .then([E.ruleReset]);
});

test('custom rules: saved (again only when changed), removed with their setting; removing a missing one is not found', () => {
  spec(detectionDecider).given([]).when({ kind: 'save-custom', rule: custom }).then([E.customRuleSaved], [custom]);
  spec(detectionDecider)
    .given([ev(E.customRuleSaved, custom)])
    .when({ kind: 'save-custom', rule: custom })
    .then([]);
  spec(detectionDecider)
    .given([ev(E.customRuleSaved, custom)])
    .when({ kind: 'save-custom', rule: { ...custom, version: 'v2', yaml: 'title: C1 v2' } })
    .then([E.customRuleSaved]);
  spec(detectionDecider)
    .given([ev(E.customRuleSaved, custom), ev(E.ruleConfigured, { ruleId: 'c1', setting: { level: 'low' } })])
    .when({ kind: 'remove-custom', ruleId: 'c1' })
    .then([E.ruleReset, E.customRuleRemoved]);
  spec(detectionDecider).given([]).when({ kind: 'remove-custom', ruleId: 'c1' }).refused('STK_ERR_NOT_FOUND');
});

test('configOf gives the configuration the detection engine validates', () => {
  const s = [
    ev(E.customRuleSaved, { ...custom, ruleId: 'b' }),
    ev(E.customRuleSaved, { ...custom, ruleId: 'a', name: 'a.yml' }),
    ev(E.ruleConfigured, { ruleId: 'r', setting: { exclude: { User: ['x'] } } }),
    ev(E.customRuleRemoved, { ruleId: 'b' }),
  ].reduce(detectionDecider.evolve, detectionDecider.initialState());
  assert.equal(configOf(s), { rules: { r: { exclude: { User: ['x'] } } }, custom: [{ name: 'a.yml', yaml: 'title: C1' }] });
});

test.run();
