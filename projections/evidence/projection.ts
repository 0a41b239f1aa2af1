import {
  EvidenceEvents as E,
  type EvidenceCollected,
  type EvidenceDownloaded,
  type EvidenceSealed,
  type EvidenceTransferred,
} from '../../commands/evidence/events.ts';
import type { Doc } from '../../src/store/model.ts';
import { by, defineProjection, patch } from '../define.ts';

export interface CustodyStep {
  action: 'collected' | 'transferred' | 'sealed' | 'downloaded';
  at: string;
  by: string;
  from: string | null;
  to: string | null;
  note: string;
}

export interface EvidenceDoc extends Doc {
  agentId: string;
  name: string;
  sha256: string;
  sizeBytes: number;
  collectedAt: string;
  holder: string;
  sealed: boolean;
  /** The collect-evidence command it answers, if any. */
  commandId: string | null;
  /** Where its bytes are kept; null when the agent reported only the hash. */
  stored: { bucket: string; object: string } | null;
  downloads: number;
  /** The chain of custody, oldest first. */
  custody: CustodyStep[];
}

function add(doc: EvidenceDoc | undefined, s: CustodyStep, fields: Partial<EvidenceDoc>) {
  return patch<EvidenceDoc>('evidence', doc, { ...fields, custody: [...(doc?.custody ?? []), s] });
}

export const evidenceProjection = defineProjection({
  model: 'evidence',
  main: 'evidence',
  collections: { evidence: { indexes: ['agentId', 'sealed'], sorts: { collectedAt: (d) => String(d.collectedAt) } } },
  on: {
    [E.collected]: {
      apply: (e, _docs, seq) => {
        const d = e.data as EvidenceCollected;
        const holder = `agent:${d.agentId}`;
        const doc: EvidenceDoc = {
          id: e.aggregate.id,
          seq,
          agentId: d.agentId,
          name: d.name,
          sha256: d.sha256,
          sizeBytes: d.sizeBytes,
          collectedAt: d.collectedAt,
          holder,
          sealed: false,
          commandId: d.commandId ?? null,
          stored: d.stored ?? null,
          downloads: 0,
          custody: [{ action: 'collected', at: e.at, by: by(e), from: null, to: holder, note: '' }],
        };
        return [{ collection: 'evidence', id: doc.id, doc }];
      },
    },
    [E.transferred]: {
      apply: (e, docs) => {
        const d = e.data as EvidenceTransferred;
        return add(
          docs.get('evidence', e.aggregate.id),
          { action: 'transferred', at: e.at, by: by(e), from: d.from, to: d.to, note: d.note },
          { holder: d.to },
        );
      },
    },
    [E.downloaded]: {
      apply: (e, docs) => {
        const d = e.data as EvidenceDownloaded;
        const doc = docs.get<EvidenceDoc>('evidence', e.aggregate.id);
        return add(
          doc,
          { action: 'downloaded', at: e.at, by: by(e), from: null, to: null, note: `${d.sizeBytes} bytes, SHA-256 ${d.sha256}` },
          { downloads: (doc?.downloads ?? 0) + 1 },
        );
      },
    },
    [E.sealed]: {
      apply: (e, docs) => {
        const d = e.data as EvidenceSealed;
        return add(
          docs.get('evidence', e.aggregate.id),
          { action: 'sealed', at: e.at, by: `${by(e)} (${d.by})`, from: null, to: null, note: d.note },
          { sealed: true },
        );
      },
    },
  },
});
