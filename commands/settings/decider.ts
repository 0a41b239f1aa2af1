import { accept, type Decider, refuse } from '../../src/domain/decider.ts';
import { StkError } from '../../src/errors.ts';
import { INSTALL_DEFAULTS, type InstallSettings, POLICY, POLICY_DEFAULTS, SETTINGS, SettingsEvents as E, type TenantPolicy } from './events.ts';

export type SettingsCommand<T> = { kind: 'set'; values: Partial<T> };

function settingsDecider<T extends object>(aggregateType: string, type: string, defaults: T, check: (v: T) => StkError | null): Decider<T, SettingsCommand<T>> {
  return {
    aggregateType,
    initialState: () => ({ ...defaults }),
    evolve: (s, e) => (e.type === type ? { ...s, ...(e.data as Partial<T>) } : s),
    decide(c, s) {
      const next = { ...s, ...c.values };
      const problem = check(next);
      if (problem) return refuse(problem);
      const changed: Partial<T> = {};
      for (const k of Object.keys(c.values) as Array<keyof T>) if (JSON.stringify(s[k]) !== JSON.stringify(next[k])) changed[k] = next[k];
      return Object.keys(changed).length ? accept({ type, data: changed }) : accept();
    },
  };
}

export const installSettingsDecider = settingsDecider<InstallSettings>(SETTINGS, E.changed, INSTALL_DEFAULTS, (v) => {
  if (v.tokenDefaultDays > v.tokenMaxDays)
    return new StkError('STK_ERR_VALIDATION', 'the default token lifetime cannot be longer than the maximum', { field: 'tokenDefaultDays' });
  if (v.sessionIdleMinutes > v.sessionAbsoluteMinutes)
    return new StkError('STK_ERR_VALIDATION', 'the idle timeout cannot be longer than the absolute one', { field: 'sessionIdleMinutes' });
  return null;
});

export const tenantPolicyDecider = settingsDecider<TenantPolicy>(POLICY, E.policyChanged, POLICY_DEFAULTS, () => null);
