import { validateWindow } from '../../src/agent/patch/window.ts';
import { accept, invalidTransition, refuse, type Decider } from '../../src/domain/decider.ts';
import { StkError } from '../../src/errors.ts';
import {
  type InventoryRecorded,
  type JobRecorded,
  PATCH_DEFAULTS,
  PATCH_HOST,
  PATCH_JOB,
  PATCH_SETTINGS,
  PatchEvents as E,
  type PatchSettings,
  type PendingUpgradeFact,
} from './events.ts';

export type PatchSettingsCommand = { kind: 'set'; values: Partial<PatchSettings> };

/** A tenant's patch settings; a window is checked (and normalised) before it is stored. */
export const patchSettingsDecider: Decider<PatchSettings, PatchSettingsCommand> = {
  aggregateType: PATCH_SETTINGS,
  initialState: () => ({ ...PATCH_DEFAULTS }),
  evolve: (s, e) => (e.type === E.settingsChanged ? { ...s, ...(e.data as Partial<PatchSettings>) } : s),
  decide(c, s) {
    const changed: Partial<PatchSettings> = {};
    if (c.values.window !== undefined) {
      let w = null;
      if (c.values.window !== null) {
        try {
          w = validateWindow(c.values.window);
        } catch (err) {
          return refuse(err as StkError);
        }
      }
      if (JSON.stringify(w) !== JSON.stringify(s.window)) changed.window = w;
    }
    const days = c.values.thresholdDays;
    if (days !== undefined) {
      if (!Number.isInteger(days) || days < 0 || days > 365)
        return refuse(new StkError('STK_ERR_VALIDATION', 'thresholdDays is a whole number of days from 0 to 365', { field: 'thresholdDays' }));
      if (days !== s.thresholdDays) changed.thresholdDays = days;
    }
    return Object.keys(changed).length ? accept({ type: E.settingsChanged, data: changed }) : accept();
  },
};

/** What the next inventory of a host is compared with. */
export interface PatchHostState {
  takenAt: string | null;
  packagesSha256: string | null;
  packagesSeq: number;
  pending: PendingUpgradeFact[];
  openKeys: string[];
}

export type PatchHostCommand = { kind: 'record'; inventory: InventoryRecorded };

/**
 * Inventories are recorded in the order they were taken: one taken at or before the last recorded
 * one (a resend, or a spooled one overtaken by a newer one) writes nothing.
 */
export const patchHostDecider: Decider<PatchHostState, PatchHostCommand> = {
  aggregateType: PATCH_HOST,
  initialState: () => ({ takenAt: null, packagesSha256: null, packagesSeq: 0, pending: [], openKeys: [] }),
  evolve(s, e) {
    if (e.type !== E.inventoryRecorded) return s;
    const d = e.data as InventoryRecorded;
    return { takenAt: d.takenAt, packagesSha256: d.packagesSha256, packagesSeq: d.packagesSeq, pending: d.pending, openKeys: d.openKeys };
  },
  decide(c, s) {
    if (s.takenAt !== null && Date.parse(c.inventory.takenAt) <= Date.parse(s.takenAt)) return accept();
    if (!(c.inventory.packagesSeq > 0))
      return refuse(new StkError('STK_ERR_VALIDATION', 'an inventory names its stored package list', { field: 'packagesSeq' }));
    return accept({ type: E.inventoryRecorded, data: c.inventory });
  },
};

export type PatchJobCommand = { kind: 'record'; job: JobRecorded };

/** A job's result is recorded once; the same result again is a retry, another one a refusal. */
export const patchJobDecider: Decider<{ job: JobRecorded | null }, PatchJobCommand> = {
  aggregateType: PATCH_JOB,
  initialState: () => ({ job: null }),
  evolve: (s, e) => (e.type === E.jobRecorded ? { job: e.data as JobRecorded } : s),
  decide(c, s) {
    if (!s.job) return accept({ type: E.jobRecorded, data: c.job });
    if (JSON.stringify(s.job) === JSON.stringify(c.job)) return accept();
    return refuse(invalidTransition('patch job', 'recorded', 'record another result'));
  },
};
