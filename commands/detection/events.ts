import type { RuleSetting } from '../../src/detect/tenant.ts';

/** A tenant's detection settings: one aggregate per tenant, type `detection`, id `settings`. */
export const DETECTION = 'detection';
export const DETECTION_SETTINGS_ID = 'settings';

export const DetectionEvents = {
  /** A rule's setting (on/off, level, exclusions) replaced as a whole. */
  ruleConfigured: 'detection.rule-configured',
  /** A rule back to the pack's behaviour. */
  ruleReset: 'detection.rule-reset',
  /** A custom rule added or replaced (same id). */
  customRuleSaved: 'detection.custom-rule-saved',
  customRuleRemoved: 'detection.custom-rule-removed',
} as const;

export interface RuleConfigured {
  ruleId: string;
  setting: RuleSetting;
}
export interface RuleReset {
  ruleId: string;
}
/** A custom rule as uploaded and validated: its text is kept whole, so the rule can be read back and re-checked. */
export interface CustomRuleSaved {
  ruleId: string;
  name: string;
  title: string;
  /** The rule's content hash (docs/detection.md): the version every match of it carries. */
  version: string;
  yaml: string;
}
export interface CustomRuleRemoved {
  ruleId: string;
}
