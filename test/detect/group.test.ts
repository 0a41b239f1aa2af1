import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type AlertGroup, groupKey, groupMatch, type GroupInput } from '../../src/detect/mod.ts';
import { isStkError } from '../../src/errors.ts';
import { isValidId } from '../../src/ids.ts';

const test = suite('detect: alert grouping');

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-30T10:00:00Z');
const m = (over: Partial<GroupInput> = {}): GroupInput => ({ ruleId: 'r1', host: 'agent-a', groupValues: [], windowMs: HOUR, ...over });

/** Feeds matches at the given times through groupMatch, keeping one state per key. */
function run(inputs: [GroupInput, number][]): { actions: string[]; groups: Map<string, AlertGroup> } {
  const groups = new Map<string, AlertGroup>();
  const actions: string[] = [];
  for (const [input, at] of inputs) {
    const key = groupKey(input.ruleId, input.host, input.groupValues);
    const d = groupMatch(groups.get(key), input, at);
    groups.set(key, d.group);
    actions.push(d.action);
  }
  return { actions, groups };
}

test('given no group, when a match arrives, then a new alert is raised with count 1', () => {
  const d = groupMatch(undefined, m(), T0);
  assert.is(d.action, 'raise');
  assert.equal({ ...d.group, key: '' }, { key: '', ruleId: 'r1', host: 'agent-a', groupValues: [], firstSeenMs: T0, lastSeenMs: T0, count: 1, closed: false });
});

test('given an open group, matches within the window update count and last-seen', () => {
  const { actions, groups } = run([
    [m(), T0],
    [m(), T0 + 10_000],
    [m(), T0 + HOUR - 1],
  ]);
  assert.equal(actions, ['raise', 'update', 'update']);
  const [g] = [...groups.values()];
  assert.is(g!.count, 3);
  assert.is(g!.firstSeenMs, T0);
  assert.is(g!.lastSeenMs, T0 + HOUR - 1);
});

test('the window is fixed from the first match: at first-seen + window a new alert is raised', () => {
  const { actions, groups } = run([
    [m(), T0],
    [m(), T0 + HOUR / 2],
    [m(), T0 + HOUR],
    [m(), T0 + HOUR + 5],
  ]);
  assert.equal(actions, ['raise', 'update', 'raise', 'update']);
  assert.is([...groups.values()][0]!.firstSeenMs, T0 + HOUR);
});

test('another rule, another host or other groupBy values make separate groups', () => {
  const { actions, groups } = run([
    [m(), T0],
    [m({ ruleId: 'r2' }), T0 + 1],
    [m({ host: 'agent-b' }), T0 + 2],
    [m({ groupValues: ['alice'] }), T0 + 3],
    [m({ groupValues: ['bob'] }), T0 + 4],
    [m({ groupValues: ['alice'] }), T0 + 5],
  ]);
  assert.equal(actions, ['raise', 'raise', 'raise', 'raise', 'raise', 'update']);
  assert.is(groups.size, 5);
});

test('a closed group (alert acknowledged or resolved) raises a new alert on the next match', () => {
  const first = groupMatch(undefined, m(), T0).group;
  const d = groupMatch({ ...first, closed: true }, m(), T0 + 60_000);
  assert.is(d.action, 'raise');
  assert.is(d.group.count, 1);
});

test('a late match (from a backlog) counts but does not move last-seen backwards', () => {
  const g = groupMatch(undefined, m(), T0 + 1000).group;
  const d = groupMatch(g, m(), T0);
  assert.is(d.action, 'update');
  assert.is(d.group.count, 2);
  assert.is(d.group.lastSeenMs, T0 + 1000);
});

test('group keys are token-safe, stable, and distinguish values that concatenate alike', () => {
  const k = groupKey('2af7183b-4284-418f-8fd9-c6a7297c977e', 'agent-a', ['/usr/sbin/nginx', null]);
  assert.ok(isValidId('token', k), k);
  assert.is(groupKey('2af7183b-4284-418f-8fd9-c6a7297c977e', 'agent-a', ['/usr/sbin/nginx', null]), k);
  assert.is.not(groupKey('r', 'a', ['b,c']), groupKey('r', 'a', ['b', 'c']));
  assert.is.not(groupKey('r', 'a', [null]), groupKey('r', 'a', ['null']));
});

test('state of another group is a caller bug and throws STK_ERR_INTERNAL', () => {
  const g = groupMatch(undefined, m(), T0).group;
  try {
    groupMatch(g, m({ host: 'agent-b' }), T0);
    assert.unreachable('must throw');
  } catch (err) {
    assert.ok(isStkError(err, 'STK_ERR_INTERNAL'));
  }
});

test.run();
