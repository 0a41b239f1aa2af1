import { suite } from 'uvu';
import { ev, spec } from '../../test/helpers/spec.ts';
import { agentConfigDecider } from './decider.ts';
import { AgentConfigEvents as E } from './events.ts';

const test = suite('agent-config decider');
const set = (settings: object, scope: 'tenant' | 'agent' = 'tenant') => ({ scope, agentId: scope === 'agent' ? 'ag' : null, settings });

test('a first setting is recorded whole; the same settings again write nothing; others replace them', () => {
  spec(agentConfigDecider)
    .given([])
    .when({ kind: 'set', set: set({ processes: { intervalMs: 1000 } }) })
    .then([E.set], [set({ processes: { intervalMs: 1000 } })]);
  const given = [ev(E.set, set({ processes: { intervalMs: 1000 }, connections: { intervalMs: 2000 } }))];
  // Key order does not make settings different.
  spec(agentConfigDecider)
    .given(given)
    .when({ kind: 'set', set: set({ connections: { intervalMs: 2000 }, processes: { intervalMs: 1000 } }) })
    .then([]);
  spec(agentConfigDecider)
    .given(given)
    .when({ kind: 'set', set: set({ processes: { intervalMs: 1000 } }) })
    .then([E.set]);
});

test("a revoked agent's own settings are refused", () => {
  spec(agentConfigDecider)
    .given([])
    .when({ kind: 'set', set: set({ directory: null }, 'agent'), agentStatus: 'revoked' })
    .refused('STK_ERR_AGENT_REVOKED');
  spec(agentConfigDecider)
    .given([])
    .when({ kind: 'set', set: set({ directory: null }, 'agent'), agentStatus: 'active' })
    .then([E.set]);
});

test.run();
