import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Decider } from '../../src/domain/decider.ts';
import type { EventEnvelope } from '../../src/log/mod.ts';
import { agentDecider, type AgentCommand } from './decider.ts';
import { AgentEvents as E } from './events.ts';
import { agentCommandDecider, type AgentCommandCommand } from '../agent-commands/decider.ts';
import { CommandEvents as C } from '../agent-commands/events.ts';

/** Given past events, when a command, then these event types or this refusal code. Pure: no log, no clock. */
function spec<S, Cmd>(decider: Decider<S, Cmd>) {
  return (given: Array<{ type: string; data?: unknown }>, when: Cmd) => {
    const state = given
      .map((g, i) => ({ id: `e${i}`, type: g.type, tenant: 't', aggregate: { type: decider.aggregateType, id: 'a' }, version: i + 1, at: '2026-01-01T00:00:00Z', actor: { kind: 'system' as const, id: 's' }, causationId: null, correlationId: null, schema: 1, data: g.data ?? {} }) as EventEnvelope)
      .reduce((s, e) => decider.evolve(s, e), decider.initialState());
    const d = decider.decide(when, state);
    return d.ok ? { events: d.events.map((e) => e.type) } : { refused: d.error.code };
  };
}

const agent = spec<ReturnType<typeof agentDecider.initialState>, AgentCommand>(agentDecider);
const enrolled = { type: E.enrolled, data: { hostname: 'h', os: 'linux', agentVersion: '1', certFingerprint: 'f', certNotAfter: '2026-02-01T00:00:00Z' } };
const enroll: AgentCommand = { kind: 'enroll', agent: enrolled.data };
const heartbeat: AgentCommand = { kind: 'heartbeat', heartbeat: { inventory: { cpus: 2 } } };
const renew: AgentCommand = { kind: 'renew', certificate: { certFingerprint: 'g', certNotAfter: '2026-03-01T00:00:00Z' } };
const revoke: AgentCommand = { kind: 'revoke', reason: 'stolen laptop' };

const test = suite('agents decider');

test('an agent is enrolled once; enrolling again is a new agent (a new id), never the same one', () => {
  assert.equal(agent([], enroll), { events: [E.enrolled] });
  assert.equal(agent([enrolled], enroll), { refused: 'STK_ERR_INVALID_TRANSITION' });
});

test('heartbeats and renewals need an enrolled agent', () => {
  assert.equal(agent([enrolled], heartbeat), { events: [E.heartbeat] });
  assert.equal(agent([enrolled], renew), { events: [E.certificateRenewed] });
  assert.equal(agent([], heartbeat), { refused: 'STK_ERR_NOT_FOUND' });
  assert.equal(agent([], revoke), { refused: 'STK_ERR_NOT_FOUND' });
});

test('revocation is terminal: nothing is appended after it (the ingress relies on this)', () => {
  const revoked = [enrolled, { type: E.heartbeat }, { type: E.revoked, data: { reason: 'x' } }];
  assert.equal(agent([enrolled], revoke), { events: [E.revoked] });
  assert.equal(agent(revoked, revoke), { events: [] }, 'revoking again changes nothing');
  assert.equal(agent(revoked, heartbeat), { refused: 'STK_ERR_INVALID_TRANSITION' });
  assert.equal(agent(revoked, renew), { refused: 'STK_ERR_INVALID_TRANSITION' });
  assert.equal(agent(revoked, enroll), { refused: 'STK_ERR_INVALID_TRANSITION' });
});

const command = spec<ReturnType<typeof agentCommandDecider.initialState>, AgentCommandCommand>(agentCommandDecider);
const dispatched = { type: C.dispatched, data: { agentId: 'agent-a', action: 'ping', args: {} } };

test('a command is dispatched once, delivered to its agent, completed once by its agent only', () => {
  assert.equal(command([], { kind: 'dispatch', command: dispatched.data }), { events: [C.dispatched] });
  assert.equal(command([dispatched], { kind: 'dispatch', command: dispatched.data }), { refused: 'STK_ERR_INVALID_TRANSITION' });
  assert.equal(command([dispatched], { kind: 'deliver', agentId: 'agent-a' }), { events: [C.delivered] });
  assert.equal(command([dispatched, { type: C.delivered }], { kind: 'deliver', agentId: 'agent-a' }), { events: [] });
  assert.equal(command([dispatched, { type: C.delivered }], { kind: 'complete', agentId: 'agent-a', outcome: 'succeeded', output: 'pong' }), { events: [C.completed] });
  assert.equal(command([dispatched], { kind: 'complete', agentId: 'agent-a', outcome: 'failed', output: '' }), { events: [C.completed] }, 'a result may come without a recorded delivery');
  const done = [dispatched, { type: C.completed, data: { outcome: 'succeeded', output: 'pong' } }];
  assert.equal(command(done, { kind: 'complete', agentId: 'agent-a', outcome: 'failed', output: '' }), { refused: 'STK_ERR_INVALID_TRANSITION' });
});

test("another agent's command answers like a missing one", () => {
  assert.equal(command([dispatched], { kind: 'deliver', agentId: 'agent-b' }), { refused: 'STK_ERR_NOT_FOUND' });
  assert.equal(command([dispatched], { kind: 'complete', agentId: 'agent-b', outcome: 'succeeded', output: '' }), { refused: 'STK_ERR_NOT_FOUND' });
  assert.equal(command([], { kind: 'complete', agentId: 'agent-a', outcome: 'succeeded', output: '' }), { refused: 'STK_ERR_NOT_FOUND' });
});

test.run();
