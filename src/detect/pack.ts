/**
 * The built-in rule pack: every `*.yml` under src/detect/rules, one rule per file. A pack that
 * does not load is a broken build, so it throws with every problem rather than returning them.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StkError } from '../errors.ts';
import { loadRule } from './load.ts';
import type { Problem, Rule } from './types.ts';

/** Where the rule files are: beside this module in the source tree, or the source tree from dist/. */
export function packDir(): string {
  const candidates = [new URL('./rules/', import.meta.url), new URL('../../../src/detect/rules/', import.meta.url)];
  for (const c of candidates) if (existsSync(fileURLToPath(c))) return fileURLToPath(c);
  throw new StkError('STK_ERR_DETECT_RULE_INVALID', 'the built-in detection rules (src/detect/rules) are missing from this install', { problems: [] });
}

/** Loads the rules of `dir` (default: the built-in pack); rule ids must be unique across files. */
export async function loadPack(dir = packDir()): Promise<Rule[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.yml')).sort();
  const rules: Rule[] = [];
  const problems: Problem[] = [];
  const seen = new Map<string, string>();
  for (const name of names) {
    const text = await readFile(join(dir, name), 'utf8');
    const r = loadRule(text, name);
    if (!r.ok) {
      problems.push(...r.problems);
      continue;
    }
    const other = seen.get(r.rule.id);
    if (other) {
      const line = text.split('\n').findIndex((l) => l.startsWith('id:')) + 1;
      problems.push({ file: name, line, col: 1, path: 'id', reason: `rule id ${r.rule.id} is also the id of ${other}` });
    }
    seen.set(r.rule.id, name);
    rules.push(r.rule);
  }
  if (problems.length) throw new StkError('STK_ERR_DETECT_RULE_INVALID', `${problems.length} problem(s) in the rule pack ${dir}`, { problems });
  return rules;
}
