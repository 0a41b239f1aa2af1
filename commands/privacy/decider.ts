import { accept, refuse, type Decider } from '../../src/domain/decider.ts';
import { StkError } from '../../src/errors.ts';
import { PRIVACY, PrivacyEvents as E, type DataRemoved, type KeysDestroyed } from './events.ts';

export interface DestructionState {
  recorded: boolean;
}

export type PrivacyCommand = { kind: 'record-destruction'; destruction: KeysDestroyed } | { kind: 'record-removal'; removal: DataRemoved };

/**
 * One act of destruction (or removal) is recorded once: its aggregate id is derived from the act (an erasure
 * request, a kind and period, an offboarding), so a retried act writes nothing twice.
 */
export const privacyDecider: Decider<DestructionState, PrivacyCommand> = {
  aggregateType: PRIVACY,
  initialState: () => ({ recorded: false }),
  evolve: (s, e) => (e.type === E.keysDestroyed || e.type === E.dataRemoved ? { recorded: true } : s),
  decide(c, s) {
    if (s.recorded) return accept();
    if (c.kind === 'record-removal') return accept({ type: E.dataRemoved, data: c.removal });
    const d = c.destruction;
    if (d.keyIds.length === 0 && !d.tenantKey && d.reason !== 'erasure')
      return refuse(new StkError('STK_ERR_VALIDATION', 'a destruction names at least one key', { field: 'keyIds' }));
    return accept({ type: E.keysDestroyed, data: d });
  },
};
