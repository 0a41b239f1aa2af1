import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AgentEvents as E } from '../../commands/agents/events.ts';
import { event, run } from '../testing.ts';
import { agentsProjection } from './projection.ts';

const test = suite('projection: agents');

const enrolled = (id: string, at: string) =>
  event(E.enrolled, { type: 'agent', id }, { hostname: id, os: 'linux', agentVersion: '1', certFingerprint: 'f', certNotAfter: 'n' }, { at });
const beat = (id: string, at: string) => event(E.heartbeat, { type: 'agent', id }, {}, { at });

test('agents heard from per hour: each agent once per hour, however often it reports', () => {
  const { docs } = run(agentsProjection, [
    enrolled('a', '2026-01-01T09:59:00.000Z'),
    enrolled('b', '2026-01-01T10:01:00.000Z'),
    beat('a', '2026-01-01T10:05:00.000Z'),
    beat('a', '2026-01-01T10:06:00.000Z'),
    beat('b', '2026-01-01T10:30:00.000Z'),
    beat('a', '2026-01-01T11:00:00.000Z'),
    beat('ghost', '2026-01-01T11:00:00.000Z'),
  ]);
  assert.is(docs.get('t/agent-hours/2026-01-01T09')!.seen, 1);
  assert.is(docs.get('t/agent-hours/2026-01-01T10')!.seen, 2);
  assert.is(docs.get('t/agent-hours/2026-01-01T11')!.seen, 1, 'an unknown agent counts nowhere');
  assert.is(docs.get('t/agents/a')!.lastSeenHour, '2026-01-01T11');
  assert.is(docs.get('t/agents/a')!.lastSeenAt, '2026-01-01T11:00:00.000Z');
});

test.run();
