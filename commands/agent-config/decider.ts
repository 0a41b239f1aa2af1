import { accept, refuse, type Decider } from '../../src/domain/decider.ts';
import type { SettingsOverride } from '../../src/domain/agent-config.ts';
import { StkError } from '../../src/errors.ts';
import { AGENT_CONFIG, AgentConfigEvents as E, type AgentConfigSet } from './events.ts';

export interface AgentConfigState {
  settings: SettingsOverride | null;
}

/**
 * Sets one scope's override. For an agent's own settings the caller brings the agent's status:
 * a revoked agent takes no settings (it takes no commands either).
 */
export type AgentConfigCommand = { kind: 'set'; set: AgentConfigSet; agentStatus?: 'active' | 'revoked' };

/** Setting the same settings again writes nothing; anything else replaces the scope's override whole. */
export const agentConfigDecider: Decider<AgentConfigState, AgentConfigCommand> = {
  aggregateType: AGENT_CONFIG,
  initialState: () => ({ settings: null }),
  evolve(s, e) {
    if (e.type === E.set) return { settings: (e.data as AgentConfigSet).settings };
    return s;
  },
  decide(c, s) {
    if (c.set.scope === 'agent' && c.agentStatus === 'revoked') return refuse(new StkError('STK_ERR_AGENT_REVOKED', 'the agent is revoked'));
    if (s.settings !== null && sameJson(s.settings, c.set.settings)) return accept();
    return accept({ type: E.set, data: c.set });
  },
};

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
}

function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sorted((v as Record<string, unknown>)[k])]),
    );
  return v;
}
