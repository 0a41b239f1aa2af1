/**
 * Detection engine: Sigma-subset rules (docs/detection.md) loaded with line-accurate refusals,
 * compiled to matchers, evaluated over telemetry items and event-derived records; alert grouping
 * and per-tenant settings as pure functions. The detector role wires these to the streams.
 */
export { type Cond, type CondError, parseCondition } from './condition.ts';
export { compileRuleset, evaluate, type Ruleset } from './evaluate.ts';
export { type AlertGroup, type GroupDecision, type GroupInput, groupKey, groupMatch } from './group.ts';
export { assertRule, DEFAULT_WINDOW_MS, loadRule, MAX_RULE_BYTES } from './load.ts';
export { type FieldValue, findLogsource, LOGSOURCES, type LogsourceDef, logsourceOfKind } from './logsources.ts';
export { loadPack, packDir } from './pack.ts';
export * from './records.ts';
export { MAX_RE_CHARS, MAX_RE_REPEAT, MAX_UNBOUNDED } from './regex-parse.ts';
export { compileRegex, MAX_RE_PROGRAM } from './regex-vm.ts';
export { checkTag, TACTICS } from './tags.ts';
export {
  applyTenantConfig,
  assertTenantConfig,
  type ConfigProblem,
  type CustomRuleSource,
  MAX_CUSTOM_RULES,
  MAX_EXCLUDE_VALUES,
  type RuleSetting,
  settingVersion,
  type TenantDetectionConfig,
  type ValidTenantConfig,
  validateTenantConfig,
} from './tenant.ts';
export { LEVELS, type Level, type LoadResult, type Match, type Problem, type Rule, STATUSES, type Status } from './types.ts';

import type { Severity } from '../../commands/alerts/events.ts';
import type { Level } from './types.ts';

/** The alert severity of a Sigma level: alerts have no `informational`, it reads as `low`. */
export function severityOf(level: Level): Severity {
  return level === 'informational' ? 'low' : level;
}
