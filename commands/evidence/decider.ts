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
  | { kind: 'seal'; by: string; note: string }
  | { kind: 'download'; by: string; sha256: string; sizeBytes: number };

/**
 * Custody: collected (held by the agent) → transferred … → sealed; a sealed item never moves again.
 * Evidence whose bytes the agent uploaded starts in the object store: collected and handed to the
 * store in one commit. A download is recorded in any state, sealed included: it moves nothing.
 */
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
    if (c.kind === 'collect') {
      if (s.exists) return refuse(invalidTransition('evidence', 'collected', 'collect it again'));
      const stored = c.evidence.stored;
      if (!stored) return accept({ type: E.collected, data: c.evidence });
      return accept(
        { type: E.collected, data: c.evidence },
        {
          type: E.transferred,
          data: { from: `agent:${c.evidence.agentId}`, to: `object-store:${stored.bucket}`, note: 'uploaded by the agent; SHA-256 checked by the ingress' },
        },
      );
    }
    if (!s.exists) return refuse(notFound('evidence', ''));
    if (c.kind === 'download') return accept({ type: E.downloaded, data: { by: c.by, sha256: c.sha256, sizeBytes: c.sizeBytes } });
    if (s.sealed) return refuse(invalidTransition('evidence', 'sealed', c.kind));
    if (c.kind === 'transfer') {
      if (c.to === s.holder) return refuse(invalidTransition('evidence', `held by ${s.holder}`, 'transfer it to the same holder'));
      return accept({ type: E.transferred, data: { from: s.holder, to: c.to, note: c.note } });
    }
    return accept({ type: E.sealed, data: { by: c.by, note: c.note } });
  },
};
