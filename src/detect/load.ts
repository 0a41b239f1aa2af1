/**
 * Loads one rule file: YAML (the kept `yaml` parser, positions from its LineCounter), the Sigma
 * subset of docs/detection.md, the `stockade` extension. Returns the compiled rule or every
 * problem found, each with its line; nothing outside the subset is silently ignored.
 */
import { createHash } from 'node:crypto';
import { isMap, isScalar, isSeq, LineCounter, type Node, type Pair, parseAllDocuments, visit, type YAMLMap } from 'yaml';
import { StkError } from '../errors.ts';
import { compileDetection } from './detection.ts';
import { fieldSlot } from './fields.ts';
import { findLogsource, LOGSOURCES, type LogsourceDef } from './logsources.ts';
import { join, Problems, stringOf } from './problems.ts';
import { checkTag } from './tags.ts';
import { LEVELS, type Level, type LoadResult, type Rule, STATUSES, type Status } from './types.ts';

/** Largest rule file accepted (custom rules come through the API). */
export const MAX_RULE_BYTES = 64 * 1024;
/** Alert grouping window when a rule sets none. */
export const DEFAULT_WINDOW_MS = 3_600_000;
const MIN_WINDOW_MS = 60_000;
const MAX_WINDOW_MS = 7 * 86_400_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE = /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
const RELATED_TYPES = ['derived', 'obsolete', 'merged', 'renamed', 'similar'];

/** Top-level keys of the subset; anything else (including Sigma's `scope`) is refused. */
const TOP_KEYS = [
  'title',
  'id',
  'name',
  'related',
  'taxonomy',
  'status',
  'description',
  'license',
  'author',
  'references',
  'date',
  'modified',
  'logsource',
  'detection',
  'fields',
  'falsepositives',
  'level',
  'tags',
  'stockade',
] as const;

/** Loads and compiles one rule from its YAML text; `file` names it in problems. */
export function loadRule(text: string, file: string): LoadResult {
  const lines = new LineCounter();
  const p = new Problems(file, lines);
  if (Buffer.byteLength(text, 'utf8') > MAX_RULE_BYTES) {
    p.add(null, '', `a rule file is at most ${MAX_RULE_BYTES} bytes`);
    return { ok: false, problems: p.sorted() };
  }
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, strict: true });
  const list = Array.isArray(docs) ? docs : [];
  if (list.length === 0) {
    p.add(null, '', 'the file holds no YAML document');
    return { ok: false, problems: p.sorted() };
  }
  if (list.length > 1) p.add(list[1]!.contents, '', 'one rule per file (Sigma rule collections with `---` are not supported)', list[1]!.range[0]);
  const doc = list[0]!;
  for (const e of doc.errors) p.add(null, '', `YAML: ${e.message.split('\n')[0]}`, e.pos[0]);
  if (!p.empty) return { ok: false, problems: p.sorted() };
  visit(doc, {
    Alias(_, node) {
      p.add(node as Node, '', 'YAML aliases are not supported in rules');
    },
  });
  if (!p.empty) return { ok: false, problems: p.sorted() };
  const root = doc.contents;
  if (!isMap(root)) {
    p.add(root, '', 'a rule is a YAML map');
    return { ok: false, problems: p.sorted() };
  }
  const rule = readTop(root, p);
  if (!p.empty || !rule) return { ok: false, problems: p.sorted() };
  const version = createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 16);
  return { ok: true, rule: { ...rule, version, overrideVersion: null, file, source: text } };
}

type Draft = Omit<Rule, 'version' | 'overrideVersion' | 'file' | 'source'>;

function readTop(root: YAMLMap, p: Problems): Draft | null {
  const at = new Map<string, Node>();
  const keyAt = new Map<string, Node>();
  for (const pair of root.items as Pair<Node, Node>[]) {
    const key = stringOf(pair.key);
    if (key === undefined || !(TOP_KEYS as readonly string[]).includes(key)) {
      const why =
        key === 'scope' ? '`scope` is not supported (rules apply to every host of their logsource)' : `unknown top-level key \`${key ?? String(pair.key)}\``;
      p.add(pair.key, key ?? '', why);
      continue;
    }
    at.set(key, pair.value as Node);
    keyAt.set(key, pair.key as Node);
  }
  for (const required of ['title', 'id', 'logsource', 'detection', 'level']) {
    if (!at.has(required)) p.add(root, '', `\`${required}\` is required`);
  }

  const str = (key: string, max: number): string | null => {
    if (!at.has(key)) return null;
    const v = stringOf(at.get(key));
    if (v === undefined || v.trim() === '' || v.length > max) {
      p.add(at.get(key) ?? keyAt.get(key), key, `\`${key}\` must be a non-empty string of at most ${max} characters`);
      return null;
    }
    return v;
  };
  const strList = (key: string, each?: (s: string, node: Node) => void): string[] => {
    if (!at.has(key)) return [];
    const node = at.get(key);
    if (!isSeq(node) || !node.items.every((x) => stringOf(x) !== undefined)) {
      p.add(node ?? keyAt.get(key), key, `\`${key}\` must be a list of strings`);
      return [];
    }
    const out = (node.items as Node[]).map((x) => stringOf(x)!);
    node.items.forEach((x, k) => {
      if (out.indexOf(out[k]!) !== k) p.add(x as Node, `${key}[${k}]`, `duplicate entry ${JSON.stringify(out[k])}`);
      each?.(out[k]!, x as Node);
    });
    return out;
  };
  const date = (key: string): string | null => {
    const v = str(key, 10);
    if (v !== null && !validDate(v)) p.add(at.get(key), key, `\`${key}\` must be a date YYYY-MM-DD`);
    return v;
  };

  const title = str('title', 256);
  const id = str('id', 36);
  if (id !== null && !UUID.test(id)) p.add(at.get('id'), 'id', '`id` must be a UUID (e.g. 929a690e-bef0-4204-a928-ef5e620d6fcc)');
  str('name', 256);
  str('license', 256);
  readRelated(at.get('related'), p);
  const taxonomy = str('taxonomy', 64);
  if (taxonomy !== null && taxonomy !== 'sigma') p.add(at.get('taxonomy'), 'taxonomy', 'only the default `sigma` taxonomy is supported');
  const status = str('status', 32);
  if (status !== null && !(STATUSES as readonly string[]).includes(status)) p.add(at.get('status'), 'status', `\`status\` is one of ${STATUSES.join(', ')}`);
  if (status === 'unsupported') p.add(at.get('status'), 'status', 'a rule with status `unsupported` cannot be used');
  const description = str('description', 65_535);
  const author = str('author', 256);
  const references = strList('references');
  const created = date('date');
  const modified = date('modified');
  const level = str('level', 16);
  if (level !== null && !(LEVELS as readonly string[]).includes(level)) p.add(at.get('level'), 'level', `\`level\` is one of ${LEVELS.join(', ')}`);
  const falsepositives = strList('falsepositives');
  const attack: string[] = [];
  const tags = strList('tags', (tag, node) => {
    const r = checkTag(tag);
    if (typeof r === 'string') p.add(node, 'tags', r);
    else if (r.technique) attack.push(r.technique);
  });

  const ls = readLogsource(at.get('logsource'), p);
  const detection = at.get('detection');
  let compiled: ReturnType<typeof compileDetection> = null;
  if (ls && isMap(detection)) compiled = compileDetection(detection, keyAt.get('detection')!, ls, p);
  else if (at.has('detection') && !isMap(detection)) p.add(detection ?? keyAt.get('detection'), 'detection', '`detection` must be a map');
  const shown = ls ? strList('fields', (f, node) => checkField(ls, f, node, 'fields', p)) : [];
  const ext = ls ? readExtension(at.get('stockade'), keyAt.get('stockade'), ls, p) : null;

  if (!p.empty || !compiled || !ls || !ext || title === null || id === null || level === null) return null;
  return {
    id: id.toLowerCase(),
    title,
    status: status as Status | null,
    description,
    author,
    date: created,
    modified,
    references,
    logsource: ls.key,
    product: ls.gate,
    level: level as Level,
    tags,
    attack,
    falsepositives,
    windowMs: ext.windowMs,
    groupBy: ext.groupBy,
    shownFields: shown.length ? shown : compiled.fields,
    test: compiled.test,
  };
}

function validDate(v: string): boolean {
  const m = DATE.exec(v);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCDate() === Number(m[3]);
}

function readRelated(node: Node | undefined, p: Problems): void {
  if (node === undefined) return;
  if (!isSeq(node)) {
    p.add(node, 'related', '`related` must be a list of {id, type}');
    return;
  }
  for (const [k, item] of node.items.entries()) {
    const path = `related[${k}]`;
    if (!isMap(item)) {
      p.add(item as Node, path, 'each related entry is a map {id, type}');
      continue;
    }
    const keys = (item.items as Pair<Node, Node>[]).map((x) => stringOf(x.key));
    if (keys.some((x) => x !== 'id' && x !== 'type') || keys.length !== 2) {
      p.add(item, path, 'each related entry has exactly `id` and `type`');
      continue;
    }
    const rid = stringOf(item.get('id', true));
    const type = stringOf(item.get('type', true));
    if (!rid || !UUID.test(rid)) p.add(item.get('id', true) as Node, `${path}.id`, 'related `id` must be a UUID');
    if (!type || !RELATED_TYPES.includes(type)) p.add(item.get('type', true) as Node, `${path}.type`, `related \`type\` is one of ${RELATED_TYPES.join(', ')}`);
  }
}

function readLogsource(node: Node | undefined, p: Problems): LogsourceDef | null {
  if (node === undefined) return null;
  if (!isMap(node)) {
    p.add(node, 'logsource', '`logsource` must be a map');
    return null;
  }
  const values: Record<string, string> = {};
  for (const pair of node.items as Pair<Node, Node>[]) {
    const key = stringOf(pair.key) ?? '';
    const path = join('logsource', key);
    if (!['product', 'category', 'service', 'definition'].includes(key)) {
      p.add(pair.key, path, `unknown logsource key \`${key}\``);
      continue;
    }
    const v = stringOf(pair.value);
    if (v === undefined) p.add(pair.value ?? pair.key, path, `\`logsource.${key}\` must be a string`);
    else values[key] = v;
  }
  if (values.service !== undefined) {
    p.add(node.get('service', true) as Node, 'logsource.service', 'no logsource of Stockade has a `service`');
    return null;
  }
  const ls = findLogsource(values.product, values.category);
  if (!ls && (values.product !== undefined || values.category !== undefined || node.items.length > 0)) {
    const known = LOGSOURCES.map((l) => `${l.product}/${l.category}`).join(', ');
    const at = (node.get('category', true) ?? node.get('product', true) ?? node) as Node;
    p.add(at, 'logsource', `Stockade has no data for logsource ${values.product ?? '-'}/${values.category ?? '-'}; known: ${known}`);
  } else if (!ls) p.add(node, 'logsource', '`logsource` needs a product and a category');
  return ls ?? null;
}

function checkField(ls: LogsourceDef, name: string, node: Node, path: string, p: Problems): void {
  if (fieldSlot(ls, name) === undefined) p.add(node, path, `unknown field \`${name}\` for logsource ${ls.product}/${ls.category}`);
}

function readExtension(node: Node | undefined, keyNode: Node | undefined, ls: LogsourceDef, p: Problems): { windowMs: number; groupBy: string[] } | null {
  const out = { windowMs: DEFAULT_WINDOW_MS, groupBy: [] as string[] };
  if (node === undefined) return out;
  if (!isMap(node)) {
    p.add(node ?? keyNode, 'stockade', '`stockade` must be a map of window and groupBy');
    return null;
  }
  for (const pair of node.items as Pair<Node, Node>[]) {
    const key = stringOf(pair.key) ?? '';
    const path = join('stockade', key);
    if (key === 'window') {
      const ms = parseWindow(isScalar(pair.value) ? pair.value.value : undefined);
      if (ms === null) p.add(pair.value ?? pair.key, path, '`stockade.window` is a duration from 1m to 7d such as 15m, 1h, 1d');
      else out.windowMs = ms;
    } else if (key === 'groupBy') {
      const v = pair.value;
      if (!isSeq(v) || !v.items.every((x) => stringOf(x) !== undefined)) p.add(v ?? pair.key, path, '`stockade.groupBy` is a list of field names');
      else
        for (const x of v.items as Node[]) {
          const f = stringOf(x)!;
          checkField(ls, f, x, path, p);
          if (out.groupBy.includes(f)) p.add(x, path, `duplicate groupBy field ${f}`);
          out.groupBy.push(f);
        }
    } else p.add(pair.key, path, `unknown key \`${key}\` in \`stockade\` (known: window, groupBy)`);
  }
  return out;
}

function parseWindow(v: unknown): number | null {
  const m = typeof v === 'string' ? /^(\d{1,6})([smhd])$/.exec(v) : null;
  if (!m) return null;
  const ms = Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's'];
  return ms >= MIN_WINDOW_MS && ms <= MAX_WINDOW_MS ? ms : null;
}

/** `loadRule` for callers that refuse by throwing: STK_ERR_DETECT_RULE_INVALID carrying every problem. */
export function assertRule(text: string, file: string): Rule {
  const r = loadRule(text, file);
  if (!r.ok) throw new StkError('STK_ERR_DETECT_RULE_INVALID', `${r.problems.length} problem(s) in rule ${file}`, { problems: r.problems });
  return r.rule;
}
