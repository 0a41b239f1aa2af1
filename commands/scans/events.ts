import type { Product } from '../../src/domain/products.ts';

/** Scan runs: aggregate `scan`, one per completed run an agent reports, with its Merkle root. */
export const SCAN = 'scan';

export const ScanEvents = { completed: 'scan.completed' } as const;

export interface ScanCompleted {
  agentId: string;
  product: Product;
  /** Hex SHA-256 Merkle root over the scan's items, as the agent computed it. */
  merkleRoot: string;
  itemCount: number;
  startedAt: string;
  finishedAt: string;
}
