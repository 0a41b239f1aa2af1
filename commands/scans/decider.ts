import { accept, invalidTransition, refuse, type Decider } from '../../src/domain/decider.ts';
import { SCAN, ScanEvents as E, type ScanCompleted } from './events.ts';

export interface ScanFold {
  exists: boolean;
}
export type ScanCommand = { kind: 'record'; scan: ScanCompleted };

/** A scan run is a fact: recorded once, never changed. */
export const scanDecider: Decider<ScanFold, ScanCommand> = {
  aggregateType: SCAN,
  initialState: () => ({ exists: false }),
  evolve: (s, e) => (e.type === E.completed ? { exists: true } : s),
  decide: (c, s) => (s.exists ? refuse(invalidTransition('scan', 'recorded', 'record it again')) : accept({ type: E.completed, data: c.scan })),
};
