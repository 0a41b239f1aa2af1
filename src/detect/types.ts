/** Shapes shared by the detection engine's parts and its callers. */
import type { Product } from '../domain/products.ts';
import type { FieldValue } from './logsources.ts';

/** Sigma's `level` values, least to most severe. */
export const LEVELS = ['informational', 'low', 'medium', 'high', 'critical'] as const;
/** Sigma's `level`. */
export type Level = (typeof LEVELS)[number];

/** Sigma's `status` values (`unsupported` is refused at load). */
export const STATUSES = ['stable', 'test', 'experimental', 'deprecated', 'unsupported'] as const;
export type Status = (typeof STATUSES)[number];

/** One reason a rule (or a tenant's configuration) was refused: where, and why. */
export interface Problem {
  /** The rule file (or the name a custom rule was uploaded under). */
  file: string;
  /** 1-based line and column of the offending YAML node. */
  line: number;
  col: number;
  /** Keys from the document root to the node, e.g. `detection.selection.CommandLine|contains`. */
  path: string;
  reason: string;
}

/** What `loadRule` returns: the rule, or every problem found in it. */
export type LoadResult = { ok: true; rule: Rule } | { ok: false; problems: Problem[] };

/** Reads one item's fields for a compiled rule; made once per item by the evaluator. */
export interface FieldReader {
  /** The field's value as the item holds it (undefined when the item has no such field). */
  raw(slot: number): FieldValue;
  /** The value(s) as strings, lower-cased; null when absent, null or empty. */
  low(slot: number): string | readonly string[] | null;
  /** The value(s) as strings, case kept; null when absent, null or empty. */
  str(slot: number): string | readonly string[] | null;
}

export type RuleTest = (fields: FieldReader) => boolean;

/** A loaded, compiled rule. Everything but `test` is plain data. */
export interface Rule {
  id: string;
  title: string;
  status: Status | null;
  description: string | null;
  author: string | null;
  date: string | null;
  modified: string | null;
  references: readonly string[];
  /** `product/category` of the logsource (see LOGSOURCES). */
  logsource: string;
  /** The product a tenant needs for this rule to run; null = core, always on. */
  product: Product | null;
  level: Level;
  tags: readonly string[];
  /** ATT&CK technique ids from the tags, upper-cased: `T1059.004`. */
  attack: readonly string[];
  falsepositives: readonly string[];
  /** Alert grouping window (Stockade extension `stockade.window`). */
  windowMs: number;
  /** Extra fields that split alert groups (Stockade extension `stockade.groupBy`). */
  groupBy: readonly string[];
  /** Fields whose values a match carries: Sigma `fields` if given, else those the detection names. */
  shownFields: readonly string[];
  /** First 16 hex digits of SHA-256 over the rule's source text: changes whenever the rule does. */
  version: string;
  /** Hash of the tenant's override applied to this rule (level, exclusions); null when none. */
  overrideVersion: string | null;
  file: string;
  source: string;
  test: RuleTest;
}

/** A rule that matched an item. */
export interface Match {
  ruleId: string;
  ruleVersion: string;
  /** The tenant override in force when it matched (see Rule.overrideVersion). */
  overrideVersion: string | null;
  title: string;
  level: Level;
  tags: readonly string[];
  attack: readonly string[];
  product: Product | null;
  logsource: string;
  /** Values of the rule's shown fields in the item (absent fields left out). */
  fields: Record<string, FieldValue>;
  /** Values of the rule's groupBy fields, in order, as lower-cased strings (null when absent). */
  groupValues: readonly (string | null)[];
  /** The rule's alert grouping window. */
  windowMs: number;
}
