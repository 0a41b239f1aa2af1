import { accept, invalidTransition, notFound, refuse, type Decider } from '../../src/domain/decider.ts';
import { EVIDENCE, EvidenceEvents as E, type EvidenceCollected } from './events.ts';

export interface EvidenceFold {
  exists: boolean;
  holder: string;
  sealed: boolean;
}

export type EvidenceCommand =
  | { kind: 'collect'; evidence: EvidenceCollected }
  | { kind: 'transfer'; to: string; note: string }
  | { kind: 'seal'; by: string; note: string };

/** Custody: collected (held by the agent) → transferred … → sealed; a sealed item never moves again. */
export const evidenceDecider: Decider<EvidenceFold, EvidenceCommand> = {
  aggregateType: EVIDENCE,
  initialState: () => ({ exists: false, holder: '', sealed: false }),
  evolve(s, e) {
    const d = e.data as { agentId: string; to: string };
    if (e.type === E.collected) return { exists: true, holder: `agent:${d.agentId}`, sealed: false };
    if (e.type === E.transferred) return { ...s, holder: d.to };
    if (e.type === E.sealed) return { ...s, sealed: true };
    return s;
  },
  decide(c, s) {
    if (c.kind === 'collect')
      return s.exists ? refuse(invalidTransition('evidence', 'collected', 'collect it again')) : accept({ type: E.collected, data: c.evidence });
    if (!s.exists) return refuse(notFound('evidence', ''));
    if (s.sealed) return refuse(invalidTransition('evidence', 'sealed', c.kind));
    if (c.kind === 'transfer') {
      if (c.to === s.holder) return refuse(invalidTransition('evidence', `held by ${s.holder}`, 'transfer it to the same holder'));
      return accept({ type: E.transferred, data: { from: s.holder, to: c.to, note: c.note } });
    }
    return accept({ type: E.sealed, data: { by: c.by, note: c.note } });
  },
};
