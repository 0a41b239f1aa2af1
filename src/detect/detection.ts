/**
 * The `detection` section: named selections (a map = AND of field tests, a list of maps = OR),
 * each field test `Field|modifier|…: value | [values]`, and the condition over them. Compiles to
 * one test; every refusal is recorded with its node's position.
 */
import { isMap, isScalar, isSeq, type Node, type Pair, type Scalar, type YAMLMap } from 'yaml';
import { compileCondition, type CondError, isCondError, isReservedName, parseCondition } from './condition.ts';
import { fieldSlot } from './fields.ts';
import type { LogsourceDef } from './logsources.ts';
import { compileValues } from './modifiers.ts';
import { join, type Problems, stringOf, textStart } from './problems.ts';
import type { FieldReader, RuleTest } from './types.ts';

const SELECTION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export interface CompiledDetection {
  test: RuleTest;
  /** Fields the selections name, in first-use order. */
  fields: string[];
}

/** Compiles `detection` (its map and its key, for problems about what is missing) for logsource `ls`; null when anything was refused. */
export function compileDetection(node: YAMLMap, keyNode: Node, ls: LogsourceDef, p: Problems): CompiledDetection | null {
  const before = p.list.length;
  const selections = new Map<string, RuleTest>();
  const selectionNodes = new Map<string, Node>();
  const fields: string[] = [];
  let condition: { node: Node; texts: { text: string; node: Scalar }[] } | null = null;

  for (const pair of node.items as Pair<Node, Node>[]) {
    const name = stringOf(pair.key);
    const path = join('detection', name ?? '?');
    if (name === undefined) {
      p.add(pair.key, 'detection', 'keys of detection must be strings');
      continue;
    }
    if (name === 'condition') {
      condition = readCondition(pair.value, p);
      continue;
    }
    if (name === 'timeframe') {
      p.add(pair.key, path, 'timeframe (correlation over time) is not supported');
      continue;
    }
    if (!SELECTION_NAME.test(name)) {
      p.add(pair.key, path, 'a search identifier is a letter or `_` followed by letters, digits or `_` (at most 64)');
      continue;
    }
    if (isReservedName(name)) {
      p.add(pair.key, path, `\`${name}\` is a word of the condition language and cannot name a selection`);
      continue;
    }
    const test = compileSelection(pair.value, path, ls, p, fields);
    if (test) selections.set(name, test);
    selectionNodes.set(name, pair.key as Node);
  }

  if (!condition) {
    if (!p.list.some((x) => x.path === 'detection.condition')) p.add(keyNode, 'detection', 'detection has no condition');
    return null;
  }
  if (selectionNodes.size === 0) {
    if (p.list.length === before) p.add(keyNode, 'detection', 'detection has no search identifiers');
    return null;
  }
  const used = new Set<string>();
  const tests: RuleTest[] = [];
  for (const { text, node: cnode } of condition.texts) {
    const tree = parseCondition(text);
    const errors: CondError[] = [];
    if (isCondError(tree)) errors.push(tree);
    else {
      // Selections refused above still count as defined, so the condition is judged on its own.
      const known = new Map([...selectionNodes.keys()].map((n) => [n, selections.get(n) ?? (() => false)] as const));
      const compiled = compileCondition(tree, known, used);
      if (Array.isArray(compiled)) errors.push(...compiled);
      else tests.push(compiled);
    }
    for (const e of errors) p.add(cnode, 'detection.condition', `condition: ${e.reason} (column ${e.at + 1} of the condition)`, conditionOffset(cnode, e.at));
  }
  // Usage is judged only when every condition parsed: a broken one reaches nothing.
  for (const [name, keyNode] of tests.length === condition.texts.length ? selectionNodes : []) {
    if (!used.has(name)) p.add(keyNode, join('detection', name), `search identifier \`${name}\` is not used by the condition`);
  }
  if (p.list.length > before) return null;
  // A list of conditions means any of them (spec "Condition").
  const test: RuleTest = tests.length === 1 ? tests[0]! : (f: FieldReader) => tests.some((t) => t(f));
  return { test, fields };
}

function readCondition(value: Node | null, p: Problems): { node: Node; texts: { text: string; node: Scalar }[] } | null {
  const one = stringOf(value);
  if (one?.trim()) return { node: value!, texts: [{ text: one, node: value as Scalar }] };
  if (isSeq(value) && value.items.length > 0 && value.items.every((x) => stringOf(x)?.trim())) {
    return { node: value, texts: (value.items as Scalar[]).map((s) => ({ text: s.value as string, node: s })) };
  }
  p.add(value, 'detection.condition', 'condition must be a non-empty string (or a list of them)');
  return null;
}

// Plain and quoted scalars hold the condition text as written (escapes aside), so an offset into
// the text maps to an offset into the file.
function conditionOffset(node: Scalar, at: number): number {
  return node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED' ? (node.range?.[0] ?? 0) : textStart(node) + at;
}

function compileSelection(node: Node | null, path: string, ls: LogsourceDef, p: Problems, fields: string[]): RuleTest | null {
  if (isMap(node)) return compileFieldMap(node, path, ls, p, fields);
  if (isSeq(node) && node.items.length > 0) {
    if (node.items.every((x) => isMap(x))) {
      const alts = (node.items as YAMLMap[]).map((m, k) => compileFieldMap(m, `${path}[${k}]`, ls, p, fields));
      if (alts.some((a) => a === null)) return null;
      const tests = alts as RuleTest[];
      return (f) => tests.some((t) => t(f));
    }
    if (node.items.every((x) => isScalar(x))) {
      p.add(node, path, 'keyword search (a list of values without a field) is not supported; name the field to search');
      return null;
    }
    p.add(node, path, 'a list selection must hold maps only');
    return null;
  }
  p.add(node, path, 'a selection is a map of fields, or a non-empty list of such maps');
  return null;
}

function compileFieldMap(node: YAMLMap, path: string, ls: LogsourceDef, p: Problems, fields: string[]): RuleTest | null {
  if (node.items.length === 0) {
    p.add(node, path, 'a selection map needs at least one field');
    return null;
  }
  const tests: RuleTest[] = [];
  let ok = true;
  for (const pair of node.items as Pair<Node, Node>[]) {
    const key = stringOf(pair.key);
    if (key === undefined) {
      p.add(pair.key, path, 'field names must be strings');
      ok = false;
      continue;
    }
    const fpath = join(path, key);
    const [name, ...mods] = key.split('|');
    if (!name) {
      p.add(pair.key, fpath, 'keyword search (`|all` without a field) is not supported; name the field to search');
      ok = false;
      continue;
    }
    const slot = fieldSlot(ls, name);
    if (slot === undefined) {
      p.add(
        pair.key,
        fpath,
        `unknown field \`${name}\` for logsource ${ls.product}/${ls.category}; known: ${Object.keys(ls.fields).join(', ')}${ls.dynamic ? `, ${ls.dynamic.prefix}<key>` : ''}`,
      );
      ok = false;
      continue;
    }
    if (!fields.includes(name)) fields.push(name);
    const test = compileValues(slot, mods, pair.key as Node, pair.value, fpath, p);
    if (test) tests.push(test);
    else ok = false;
  }
  if (!ok) return null;
  if (tests.length === 1) return tests[0]!;
  return (f) => {
    for (const t of tests) if (!t(f)) return false;
    return true;
  };
}
