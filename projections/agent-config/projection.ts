import { AgentConfigEvents as E, type AgentConfigSet } from '../../commands/agent-config/events.ts';
import type { SettingsOverride } from '../../src/domain/agent-config.ts';
import type { Doc } from '../../src/store/model.ts';
import { by, defineProjection } from '../define.ts';

/** A scope's collection settings: id `tenant` for the tenant's own, else the agent's id. */
export interface AgentConfigDoc extends Doc {
  scope: 'tenant' | 'agent';
  settings: SettingsOverride;
  setAt: string;
  setBy: string;
}

/** The collection settings operators set, per tenant and per agent. */
export const agentConfigProjection = defineProjection({
  model: 'agent-config',
  main: 'agent-config',
  collections: { 'agent-config': { indexes: ['scope'] } },
  on: {
    [E.set]: {
      apply: (e, docs, seq) => {
        const d = e.data as AgentConfigSet;
        const old = docs.get<AgentConfigDoc>('agent-config', e.aggregate.id);
        const doc: AgentConfigDoc = { id: e.aggregate.id, seq: old?.seq ?? seq, scope: d.scope, settings: d.settings, setAt: e.at, setBy: by(e) };
        return [{ collection: 'agent-config', id: doc.id, doc }];
      },
    },
  },
});
