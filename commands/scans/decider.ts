import { accept, invalidTransition, refuse, type Decider } from '../../src/domain/decider.ts';
import { StkError } from '../../src/errors.ts';
import { SCAN, ScanEvents as E, type ScanCompleted, type ScanRefused, type ScanRequested } from './events.ts';

export interface ScanFold {
  status: 'none' | 'requested' | 'refused' | 'completed';
  merkleRoot: string | null;
  itemCount: number;
}

export type ScanCommand = { kind: 'request'; request: ScanRequested } | { kind: 'refuse'; refusal: ScanRefused } | { kind: 'record'; scan: ScanCompleted };

/**
 * A run is requested (server scans) or not, then refused or recorded once; a recorded run is a
 * fact that never changes. Recording the same root and count again is a retry and writes nothing;
 * another root under the same run id is refused.
 */
export const scanDecider: Decider<ScanFold, ScanCommand> = {
  aggregateType: SCAN,
  initialState: () => ({ status: 'none', merkleRoot: null, itemCount: 0 }),
  evolve(s, e) {
    if (e.type === E.requested) return { ...s, status: 'requested' };
    if (e.type === E.refused) return { ...s, status: 'refused' };
    if (e.type === E.completed) {
      const d = e.data as ScanCompleted;
      return { status: 'completed', merkleRoot: d.merkleRoot, itemCount: d.itemCount };
    }
    return s;
  },
  decide(c, s) {
    if (c.kind === 'request')
      return s.status === 'none' ? accept({ type: E.requested, data: c.request }) : refuse(invalidTransition('scan', s.status, 'request it again'));
    if (c.kind === 'refuse')
      return s.status === 'requested' ? accept({ type: E.refused, data: c.refusal }) : refuse(invalidTransition('scan', s.status, 'refuse it'));
    if (s.status === 'completed') {
      if (s.merkleRoot === c.scan.merkleRoot && s.itemCount === c.scan.itemCount) return accept();
      return refuse(new StkError('STK_ERR_SCAN_RUN_CONFLICT', 'this run was sealed with other items', { expected: s.merkleRoot, actual: c.scan.merkleRoot }));
    }
    if (s.status === 'refused') return refuse(invalidTransition('scan', s.status, 'record it'));
    return accept({ type: E.completed, data: c.scan });
  },
};
