import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CommandEvents } from '../../commands/agent-commands/events.ts';
import { AgentEvents } from '../../commands/agents/events.ts';
import { event, run } from '../testing.ts';
import { hostsProjection } from './projection.ts';

const test = suite('projection: hosts');
const agent = { type: 'agent', id: 'ag1' };
const enrolled = event(AgentEvents.enrolled, agent, { hostname: 'web-1', os: 'linux', agentVersion: '1', certFingerprint: 'f', certNotAfter: 'x' });
const dispatched = (id: string, action: string, agentId = 'ag1') => event(CommandEvents.dispatched, { type: 'command', id }, { agentId, action, args: {} });
const done = (id: string, outcome: string, by = 'ag1') =>
  event(CommandEvents.completed, { type: 'command', id }, { outcome, output: `${outcome} output` }, { actor: { kind: 'agent', id: by } });

test("isolation follows the results of the host's own isolate and release commands, not their dispatch", () => {
  const { docs } = run(hostsProjection, [enrolled, dispatched('c1', 'isolate-host')]);
  assert.equal([docs.get('t/hosts/ag1')!.isolation, docs.get('t/hosts/ag1')!.pendingIsolation], ['not-isolated', 'isolate-host']);
  const isolated = run(hostsProjection, [enrolled, dispatched('c1', 'isolate-host'), done('c1', 'succeeded')]).docs.get('t/hosts/ag1')!;
  assert.equal([isolated.isolation, isolated.isolationCommandId, isolated.isolationBy, isolated.pendingIsolation], ['isolated', 'c1', 'operator:admin', null]);
  const released = run(hostsProjection, [
    enrolled,
    dispatched('c1', 'isolate-host'),
    done('c1', 'succeeded'),
    dispatched('c2', 'release-host'),
    done('c2', 'succeeded'),
  ]);
  assert.is(released.docs.get('t/hosts/ag1')!.isolation, 'not-isolated');
  assert.not.ok(released.docs.has('t/host-actions/c1'), 'answered commands are not kept');
});

test('a failed isolation keeps the state and says why; another agent answering changes nothing; other actions are ignored', () => {
  const failed = run(hostsProjection, [enrolled, dispatched('c1', 'isolate-host'), done('c1', 'failed')]).docs.get('t/hosts/ag1')!;
  assert.equal([failed.isolation, failed.isolationError, failed.pendingIsolation], ['not-isolated', 'failed output', null]);
  const spoofed = run(hostsProjection, [enrolled, dispatched('c1', 'isolate-host'), done('c1', 'succeeded', 'someone-else')]).docs.get('t/hosts/ag1')!;
  assert.is(spoofed.isolation, 'not-isolated');
  const ping = run(hostsProjection, [enrolled, dispatched('c3', 'ping'), done('c3', 'succeeded')]);
  assert.not.ok(ping.docs.has('t/host-actions/c3'));
  assert.is(ping.docs.get('t/hosts/ag1')!.pendingIsolation, null);
});

test('health reports: started, stopped, clock skew, spool', () => {
  const h = (data: object) => event(AgentEvents.health, agent, { observedAt: '2026-01-01T00:00:00.000Z', ...data });
  const { docs } = run(hostsProjection, [
    enrolled,
    h({ event: 'started', agentVersion: '0.2.0' }),
    h({ event: 'clock_skew', skewSeconds: -420 }),
    h({ event: 'spool', spool: { pendingBatches: 3, pendingItems: 90, diskBytes: 4096, droppedBatches: 1, droppedItems: 30 } }),
    h({ event: 'stopped' }),
  ]);
  const health = docs.get('t/hosts/ag1')!.health as Record<string, unknown>;
  assert.equal(health, {
    lastEvent: 'stopped',
    lastEventAt: '2026-01-01T00:00:00.000Z',
    startedAt: '2026-01-01T00:00:00.000Z',
    stoppedAt: '2026-01-01T00:00:00.000Z',
    agentVersion: '0.2.0',
    skewSeconds: -420,
    spool: { pendingBatches: 3, pendingItems: 90, diskBytes: 4096, droppedBatches: 1, droppedItems: 30 },
  });
});

test.run();
