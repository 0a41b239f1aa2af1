import { agentSubject, personSubject, type PersonalFields } from '../../src/domain/personal.ts';
/** Evidence: aggregate `evidence`, an artifact's hash and its chain of custody. */
export const EVIDENCE = 'evidence';

export const EvidenceEvents = {
  collected: 'evidence.collected',
  transferred: 'evidence.transferred',
  sealed: 'evidence.sealed',
  /** Someone downloaded the stored bytes (the download itself is part of the custody trail). */
  downloaded: 'evidence.downloaded',
} as const;

export interface EvidenceCollected {
  agentId: string;
  name: string;
  /** Hex SHA-256 of the artifact. */
  sha256: string;
  sizeBytes: number;
  collectedAt: string;
  /** The collect-evidence command it answers, when it was collected on command. */
  commandId?: string;
  /** Where the bytes are kept, when the agent uploaded them (object store bucket and object). */
  stored?: { bucket: string; object: string };
}
/** Custody passes from one holder to another (people or systems, by name). */
export interface EvidenceTransferred {
  from: string;
  to: string;
  note: string;
}
export interface EvidenceSealed {
  by: string;
  note: string;
}
/** The stored bytes were handed to someone; `sha256` is what they were checked against before. */
export interface EvidenceDownloaded {
  by: string;
  sha256: string;
  sizeBytes: number;
}

/** A custody holder as a subject: `agent:<id>` for the collecting machine, otherwise a person. */
export function holderSubject(holder: string): string {
  return holder.startsWith('agent:') ? holder : personSubject(holder);
}

/** Evidence names belong to the machine they came from; custody names people. */
export const EvidencePersonal: PersonalFields = {
  [EvidenceEvents.collected]: { fields: ['name'], subjects: (e) => [agentSubject((e.data as EvidenceCollected).agentId)] },
  [EvidenceEvents.transferred]: {
    fields: ['from', 'to', 'note'],
    subjects: (e) => {
      const d = e.data as EvidenceTransferred;
      return [...new Set([holderSubject(d.from), holderSubject(d.to)])];
    },
  },
  [EvidenceEvents.sealed]: { fields: ['by', 'note'], subjects: (e) => [holderSubject((e.data as EvidenceSealed).by)] },
};
