/**
 * Evaluation: rules indexed by logsource, so an item is tested only against the rules of the
 * logsource its `kind` feeds, with each field read once per item.
 */
import { fieldSlot, ItemFields } from './fields.ts';
import { type FieldValue, logsourceByKey, logsourceOfKind } from './logsources.ts';
import type { Match, Rule } from './types.ts';

interface Compiled {
  rule: Rule;
  shown: { name: string; slot: number }[];
  group: number[];
}

/** Rules ready for evaluation: grouped by logsource, with field slots resolved. */
export interface Ruleset {
  readonly rules: readonly Rule[];
  readonly byLogsource: ReadonlyMap<string, { fields: ItemFields; rules: readonly Compiled[] }>;
}

/** Indexes `rules` for `evaluate`; do it once per rule set, not per item. */
export function compileRuleset(rules: readonly Rule[]): Ruleset {
  const byLogsource = new Map<string, { fields: ItemFields; rules: Compiled[] }>();
  for (const rule of rules) {
    const ls = logsourceByKey(rule.logsource);
    if (!ls) continue;
    let entry = byLogsource.get(ls.key);
    if (!entry) {
      entry = { fields: new ItemFields(ls), rules: [] };
      byLogsource.set(ls.key, entry);
    }
    const slot = (name: string): number => fieldSlot(ls, name)!;
    entry.rules.push({ rule, shown: rule.shownFields.map((name) => ({ name, slot: slot(name) })), group: rule.groupBy.map(slot) });
  }
  return { rules, byLogsource };
}

const cache = new WeakMap<readonly Rule[], Ruleset>();

function isRuleset(x: Ruleset | readonly Rule[]): x is Ruleset {
  return !Array.isArray(x);
}

/**
 * The rules of `rules` that match `item` (a telemetry item or an event-derived record, by its
 * `kind`). An item of a kind no logsource reads matches nothing.
 */
export function evaluate(rules: Ruleset | readonly Rule[], item: object): Match[] {
  let set: Ruleset;
  if (isRuleset(rules)) set = rules;
  else {
    set = cache.get(rules) ?? compileRuleset(rules);
    cache.set(rules, set);
  }
  const ls = logsourceOfKind((item as { kind?: unknown }).kind);
  const entry = ls && set.byLogsource.get(ls.key);
  if (!entry) return [];
  const f = entry.fields.reset(item as Record<string, unknown>);
  const out: Match[] = [];
  for (const c of entry.rules) {
    if (!c.rule.test(f)) continue;
    const fields: Record<string, FieldValue> = {};
    for (const s of c.shown) {
      const v = f.raw(s.slot);
      if (v !== undefined) fields[s.name] = v;
    }
    const groupValues = c.group.map((slot) => {
      const v = f.low(slot);
      return v === null ? null : typeof v === 'string' ? v : v.join(',');
    });
    const r = c.rule;
    out.push({
      ruleId: r.id,
      ruleVersion: r.version,
      overrideVersion: r.overrideVersion,
      title: r.title,
      level: r.level,
      tags: r.tags,
      attack: r.attack,
      product: r.product,
      logsource: r.logsource,
      fields,
      groupValues,
      windowMs: r.windowMs,
    });
  }
  return out;
}
