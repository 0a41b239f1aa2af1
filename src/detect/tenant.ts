/**
 * Per-tenant detection settings, pure: which rules are on, per-rule overrides (level, exclusions
 * by field value), and custom rules loaded exactly like the built-in ones. `validateTenantConfig`
 * takes untrusted input (the API body) and returns every problem; `applyTenantConfig` turns a
 * valid configuration and the tenant's products into the rules the detector runs for it.
 */
import { createHash } from 'node:crypto';
import type { Product } from '../domain/products.ts';
import { StkError } from '../errors.ts';
import { fieldSlot } from './fields.ts';
import { loadRule } from './load.ts';
import { logsourceByKey } from './logsources.ts';
import { LEVELS, type Level, type Problem, type Rule, type RuleTest } from './types.ts';
import { globMatcher, parseSigmaString } from './values.ts';

/** Most custom rules one tenant may have. */
export const MAX_CUSTOM_RULES = 200;
/** Most values one exclusion field may list. */
export const MAX_EXCLUDE_VALUES = 100;

export type ExcludeValue = string | number | boolean;

/** How a tenant tunes one rule. */
export interface RuleSetting {
  /** false turns the rule off (refused for core rules, which are always on). */
  enabled?: boolean;
  level?: Level;
  /** Drop a match when any listed field has any listed value (Sigma plain values: wildcards, case-insensitive). */
  exclude?: Record<string, readonly ExcludeValue[]>;
}

/** A custom rule as uploaded: its YAML and the name problems refer to it by. */
export interface CustomRuleSource {
  name: string;
  yaml: string;
}

export interface TenantDetectionConfig {
  rules?: Record<string, RuleSetting>;
  custom?: readonly CustomRuleSource[];
}

/** A configuration problem: where in the configuration, and why; rule-file problems carry their line too. */
export interface ConfigProblem {
  path: string;
  reason: string;
  file?: string;
  line?: number;
  col?: number;
}

/** A validated configuration with its custom rules compiled. */
export interface ValidTenantConfig {
  settings: ReadonlyMap<string, RuleSetting>;
  custom: readonly Rule[];
}

const isRecord = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);

/** Checks `input` against the built-in `pack`; returns the compiled configuration or every problem. */
export function validateTenantConfig(
  pack: readonly Rule[],
  input: unknown,
): { ok: true; config: ValidTenantConfig } | { ok: false; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const bad = (path: string, reason: string): void => {
    problems.push({ path, reason });
  };
  if (!isRecord(input)) return { ok: false, problems: [{ path: '', reason: 'the configuration is an object {rules?, custom?}' }] };
  for (const k of Object.keys(input)) if (k !== 'rules' && k !== 'custom') bad(k, `unknown key \`${k}\``);

  const custom: Rule[] = [];
  const builtinIds = new Set(pack.map((r) => r.id));
  if (input.custom !== undefined) {
    if (!Array.isArray(input.custom)) bad('custom', '`custom` is a list of {name, yaml}');
    else if (input.custom.length > MAX_CUSTOM_RULES) bad('custom', `at most ${MAX_CUSTOM_RULES} custom rules`);
    else
      for (const [k, c] of (input.custom as unknown[]).entries()) {
        const path = `custom[${k}]`;
        if (!isRecord(c) || typeof c.name !== 'string' || !c.name || typeof c.yaml !== 'string' || Object.keys(c).some((x) => x !== 'name' && x !== 'yaml')) {
          bad(path, 'a custom rule is {name, yaml}');
          continue;
        }
        const r = loadRule(c.yaml, c.name);
        if (!r.ok) problems.push(...r.problems.map((x: Problem) => ({ ...x, path: x.path ? `${path}.${x.path}` : path })));
        else if (builtinIds.has(r.rule.id)) bad(`${path}.id`, `rule id ${r.rule.id} is a built-in rule's; give the custom rule its own id`);
        else if (custom.some((x) => x.id === r.rule.id)) bad(`${path}.id`, `rule id ${r.rule.id} is used by another custom rule`);
        else custom.push(r.rule);
      }
  }

  const settings = new Map<string, RuleSetting>();
  const byId = new Map([...pack, ...custom].map((r) => [r.id, r]));
  if (input.rules !== undefined && !isRecord(input.rules)) bad('rules', '`rules` maps rule ids to settings');
  else
    for (const [id, raw] of Object.entries(input.rules ?? {})) {
      const path = `rules.${id}`;
      const rule = byId.get(id);
      if (!rule) {
        bad(path, `no rule with id ${id}`);
        continue;
      }
      const setting = readSetting(rule, raw, path, bad);
      if (setting) settings.set(id, setting);
    }
  return problems.length ? { ok: false, problems } : { ok: true, config: { settings, custom } };
}

function readSetting(rule: Rule, raw: unknown, path: string, bad: (path: string, reason: string) => void): RuleSetting | null {
  if (!isRecord(raw)) {
    bad(path, 'a rule setting is an object {enabled?, level?, exclude?}');
    return null;
  }
  const failures = { n: 0 };
  const fail = (p: string, reason: string): void => {
    failures.n++;
    bad(p, reason);
  };
  const out: RuleSetting = {};
  for (const k of Object.keys(raw)) if (!['enabled', 'level', 'exclude'].includes(k)) fail(`${path}.${k}`, `unknown key \`${k}\``);
  if (raw.enabled !== undefined) {
    if (typeof raw.enabled !== 'boolean') fail(`${path}.enabled`, '`enabled` is true or false');
    else if (raw.enabled === false && rule.product === null) fail(`${path}.enabled`, 'core rules are always on; narrow them with `exclude` instead');
    else out.enabled = raw.enabled;
  }
  if (raw.level !== undefined) {
    if (typeof raw.level !== 'string' || !(LEVELS as readonly string[]).includes(raw.level)) fail(`${path}.level`, `\`level\` is one of ${LEVELS.join(', ')}`);
    else out.level = raw.level as Level;
  }
  if (raw.exclude !== undefined) {
    const ls = logsourceByKey(rule.logsource)!;
    if (!isRecord(raw.exclude)) fail(`${path}.exclude`, '`exclude` maps field names to lists of values');
    else {
      const exclude: Record<string, ExcludeValue[]> = {};
      for (const [name, values] of Object.entries(raw.exclude)) {
        const fpath = `${path}.exclude.${name}`;
        if (fieldSlot(ls, name) === undefined) fail(fpath, `unknown field \`${name}\` for logsource ${rule.logsource}`);
        else if (
          !Array.isArray(values) ||
          values.length === 0 ||
          values.length > MAX_EXCLUDE_VALUES ||
          !values.every((v) => typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)))
        ) {
          fail(fpath, `a list of 1 to ${MAX_EXCLUDE_VALUES} strings, numbers or booleans`);
        } else exclude[name] = values as ExcludeValue[];
      }
      out.exclude = exclude;
    }
  }
  return failures.n ? null : out;
}

/**
 * The rules the detector runs for a tenant: built-ins and custom rules whose product the tenant
 * has (core rules always), minus the ones turned off, with level overrides and exclusions applied.
 */
export function applyTenantConfig(pack: readonly Rule[], config: ValidTenantConfig, products: readonly Product[]): Rule[] {
  const out: Rule[] = [];
  for (const rule of [...pack, ...config.custom]) {
    if (rule.product !== null && !products.includes(rule.product)) continue;
    const setting = config.settings.get(rule.id);
    if (!setting) {
      out.push(rule);
      continue;
    }
    if (setting.enabled === false) continue;
    const excluded = exclusionTest(rule, setting.exclude);
    const test: RuleTest = excluded ? (f) => rule.test(f) && !excluded(f) : rule.test;
    out.push({ ...rule, level: setting.level ?? rule.level, test, overrideVersion: settingVersion(setting) });
  }
  return out;
}

function exclusionTest(rule: Rule, exclude: RuleSetting['exclude']): RuleTest | null {
  if (!exclude || Object.keys(exclude).length === 0) return null;
  const ls = logsourceByKey(rule.logsource)!;
  const parts = Object.entries(exclude).map(([name, values]) => ({
    slot: fieldSlot(ls, name)!,
    matchers: values.map((v) => globMatcher(parseSigmaString(String(v)), true)),
  }));
  return (f) => {
    for (const { slot, matchers } of parts) {
      const v = f.low(slot);
      if (v === null) continue;
      const list = typeof v === 'string' ? [v] : v;
      for (const m of matchers) for (const e of list) if (m(e)) return true;
    }
    return false;
  };
}

/** A short hash of one rule setting (keys sorted), carried by matches as `overrideVersion`. */
export function settingVersion(setting: RuleSetting): string {
  const canonical = JSON.stringify(setting, (_k, v) => (isRecord(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

/** `validateTenantConfig` for callers that refuse bad input by throwing (the API): STK_ERR_DETECT_CONFIG_INVALID with `problems`. */
export function assertTenantConfig(pack: readonly Rule[], input: unknown): ValidTenantConfig {
  const r = validateTenantConfig(pack, input);
  if (!r.ok) throw new StkError('STK_ERR_DETECT_CONFIG_INVALID', `${r.problems.length} problem(s) in the detection settings`, { problems: r.problems });
  return r.config;
}
