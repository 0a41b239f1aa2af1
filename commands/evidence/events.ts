/** Evidence: aggregate `evidence`, an artifact's hash and its chain of custody. */
export const EVIDENCE = 'evidence';

export const EvidenceEvents = {
  collected: 'evidence.collected',
  transferred: 'evidence.transferred',
  sealed: 'evidence.sealed',
} as const;

export interface EvidenceCollected {
  agentId: string;
  name: string;
  /** Hex SHA-256 of the artifact. */
  sha256: string;
  sizeBytes: number;
  collectedAt: string;
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
