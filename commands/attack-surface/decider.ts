import { accept, type Decider, refuse } from '../../src/domain/decider.ts';
import { StkError } from '../../src/errors.ts';
import { parseAllowlist } from '../../src/scan/allowlist.ts';
import { ASM_DEFAULTS, ASM_SETTINGS, AsmEvents as E, type AsmSettings, SCAN_SCOPE, type ScopeAdvanced } from './events.ts';

export type AsmSettingsCommand = { kind: 'set'; values: Partial<AsmSettings> };

/** Settings change when a value changes; the allowlist is stored canonical and refused whole when an entry is malformed. */
export const asmSettingsDecider: Decider<AsmSettings, AsmSettingsCommand> = {
  aggregateType: ASM_SETTINGS,
  initialState: () => ({ ...ASM_DEFAULTS, targets: [] }),
  evolve: (s, e) => (e.type === E.settingsChanged ? { ...s, ...(e.data as Partial<AsmSettings>) } : s),
  decide(c, s) {
    const changed: Partial<AsmSettings> = {};
    if (c.values.targets !== undefined) {
      const parsed = parseAllowlist(c.values.targets);
      if (!parsed.ok) return refuse(new StkError(parsed.code, 'an allowlist entry is not a valid target', { problems: parsed.problems }));
      const targets = [...parsed.allowlist.entries];
      if (JSON.stringify(targets) !== JSON.stringify(s.targets)) changed.targets = targets;
    }
    const days = c.values.expiryWarningDays;
    if (days !== undefined) {
      if (!Number.isInteger(days) || days < 1 || days > 365)
        return refuse(new StkError('STK_ERR_VALIDATION', 'expiryWarningDays is a whole number of days from 1 to 365', { field: 'expiryWarningDays' }));
      if (days !== s.expiryWarningDays) changed.expiryWarningDays = days;
    }
    return Object.keys(changed).length ? accept({ type: E.settingsChanged, data: changed }) : accept();
  },
};

export interface ScopeState {
  lastRunId: string | null;
  openKeys: string[];
}

/**
 * Advancing a scope by one run. The command names the run it was computed against
 * (`previousRunId`): when another run got there first, the scope refuses and the caller computes
 * again against the new last run, so no run's findings are judged against a stale one.
 */
export type ScopeCommand = { kind: 'advance'; advance: ScopeAdvanced };

export const scanScopeDecider: Decider<ScopeState, ScopeCommand> = {
  aggregateType: SCAN_SCOPE,
  initialState: () => ({ lastRunId: null, openKeys: [] }),
  evolve: (s, e) => {
    if (e.type !== E.scopeAdvanced) return s;
    const d = e.data as ScopeAdvanced;
    return { lastRunId: d.runId, openKeys: d.openKeys };
  },
  decide(c, s) {
    if (s.lastRunId === c.advance.runId) return accept();
    if (s.lastRunId !== c.advance.previousRunId)
      return refuse(
        new StkError('STK_ERR_LOG_VERSION_CONFLICT', 'another run of this scope was sealed first', { expected: c.advance.previousRunId, actual: s.lastRunId }),
      );
    return accept({ type: E.scopeAdvanced, data: c.advance });
  },
};
