import { accept, notFound, refuse, type Decider } from '../../src/domain/decider.ts';
import type { NewEvent } from '../../src/domain/events.ts';
import type { RuleSetting, TenantDetectionConfig } from '../../src/detect/tenant.ts';
import { type CustomRuleSaved, DETECTION, DetectionEvents as E, type RuleConfigured, type RuleReset } from './events.ts';

export interface DetectionState {
  rules: Record<string, RuleSetting>;
  custom: Record<string, Omit<CustomRuleSaved, 'ruleId'>>;
}

/**
 * Commands on a tenant's detection settings. The API validates the whole configuration the change
 * leads to (`validateTenantConfig`: every problem, with the line of a bad rule) before it asks; the
 * decider keeps the history as events and makes an unchanged setting a no-op.
 */
export type DetectionCommand =
  | { kind: 'configure'; ruleId: string; setting: RuleSetting }
  | { kind: 'reset'; ruleId: string }
  | { kind: 'save-custom'; rule: CustomRuleSaved }
  | { kind: 'remove-custom'; ruleId: string };

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export const detectionDecider: Decider<DetectionState, DetectionCommand> = {
  aggregateType: DETECTION,
  initialState: () => ({ rules: {}, custom: {} }),
  evolve(s, e) {
    switch (e.type) {
      case E.ruleConfigured: {
        const d = e.data as RuleConfigured;
        return { ...s, rules: { ...s.rules, [d.ruleId]: d.setting } };
      }
      case E.ruleReset: {
        const { [(e.data as RuleReset).ruleId]: _gone, ...rules } = s.rules;
        return { ...s, rules };
      }
      case E.customRuleSaved: {
        const { ruleId, ...rest } = e.data as CustomRuleSaved;
        return { ...s, custom: { ...s.custom, [ruleId]: rest } };
      }
      case E.customRuleRemoved: {
        const { [(e.data as RuleReset).ruleId]: _gone, ...custom } = s.custom;
        return { ...s, custom };
      }
      default:
        return s;
    }
  },
  decide(c, s) {
    switch (c.kind) {
      case 'configure':
        return same(s.rules[c.ruleId], c.setting) ? accept() : accept({ type: E.ruleConfigured, data: { ruleId: c.ruleId, setting: c.setting } });
      case 'reset':
        return s.rules[c.ruleId] ? accept({ type: E.ruleReset, data: { ruleId: c.ruleId } }) : accept();
      case 'save-custom': {
        const { ruleId, ...rest } = c.rule;
        return same(s.custom[ruleId], rest) ? accept() : accept({ type: E.customRuleSaved, data: c.rule });
      }
      case 'remove-custom': {
        if (!s.custom[c.ruleId]) return refuse(notFound('custom rule', c.ruleId));
        // Its setting goes with it: a setting for a rule that no longer exists would make the configuration invalid.
        const events: NewEvent[] = s.rules[c.ruleId] ? [{ type: E.ruleReset, data: { ruleId: c.ruleId } }] : [];
        return accept(...events, { type: E.customRuleRemoved, data: { ruleId: c.ruleId } });
      }
    }
  },
};

/** The settings as `validateTenantConfig` / `applyTenantConfig` take them. */
export function configOf(s: DetectionState): TenantDetectionConfig {
  return {
    rules: s.rules,
    custom: Object.entries(s.custom)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, r]) => ({ name: r.name, yaml: r.yaml })),
  };
}
