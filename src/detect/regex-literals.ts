/**
 * What a regular expression's matches must contain, worked out from its tree: groups of literals
 * for the `includes` pre-check that spares most subjects the matching machine, and whether the
 * pattern is anchored at the start.
 */
import type { Node } from './regex-parse.ts';

/**
 * Literals of which every match must contain at least one (for a quick `includes` pre-check), or
 * null when none is known: `\b(curl|wget)\b` gives [curl, wget], `ab+c` gives [ab].
 */
export function requiredLiterals(n: Node): string[] | null {
  const single = (x: Node): string | null => {
    if (x.t !== 'set' || x.set.negate || x.set.classes.length || x.set.ranges.length !== 2 || x.set.ranges[0] !== x.set.ranges[1]) return null;
    return String.fromCharCode(x.set.ranges[0]!);
  };
  switch (n.t) {
    case 'set': {
      const c = single(n);
      return c === null ? null : [c];
    }
    case 'rep':
      return n.min >= 1 ? requiredLiterals(n.body) : null;
    case 'alt': {
      const all: string[] = [];
      for (const a of n.alts) {
        const r = requiredLiterals(a);
        if (!r) return null;
        all.push(...r);
      }
      return minimal(all);
    }
    case 'assert':
      return null;
    case 'cat': {
      let best: string[] | null = null;
      let run = '';
      const offer = (cand: string[] | null): void => {
        if (cand && (!best || score(cand) > score(best))) best = cand;
      };
      for (const item of n.items) {
        const c = single(item);
        if (c !== null) {
          run += c;
          continue;
        }
        // Anchors and word boundaries take no characters: literals on both sides stay adjacent.
        if (item.t === 'assert') continue;
        if (run) offer([run]);
        run = '';
        offer(requiredLiterals(item));
      }
      if (run) offer([run]);
      return best;
    }
  }
}

/** Most literal groups the pre-check tests. */
const MAX_GROUPS = 4;

/**
 * Groups of literals a match must contain, one of each group: for a concatenation, every run of
 * plain characters and every part with literals of its own (`\b(curl|wget)\b[^|]*\|` gives
 * [curl, wget] and [|]); the most selective few are kept.
 */
export function requiredGroups(tree: Node): string[][] {
  const out: string[][] = [];
  if (tree.t === 'cat') {
    let run = '';
    for (const item of tree.items) {
      const one = requiredLiterals(item);
      if (item.t === 'set' && one) {
        run += one[0];
        continue;
      }
      if (item.t === 'assert') continue;
      if (run) out.push([run]);
      run = '';
      if (one) out.push(one);
    }
    if (run) out.push([run]);
  } else {
    const one = requiredLiterals(tree);
    if (one) out.push(one);
  }
  return out
    .filter((g) => g.every((x) => x.length > 0))
    .sort((a, b) => score(b) - score(a))
    .slice(0, MAX_GROUPS);
}

/** A set of needles is as selective as its shortest one. */
function score(set: string[]): number {
  return Math.min(...set.map((x) => x.length)) * 100 - set.length;
}

/** Drops needles that contain another one: if `nc` is there, `ncat` adds nothing. */
function minimal(set: string[]): string[] {
  const uniq = [...new Set(set)];
  return uniq.filter((x) => !uniq.some((y) => y !== x && x.includes(y)));
}

/** True when every match must start at the subject's start (`^…` without the m flag). */
export function startsAnchored(n: Node): boolean {
  if (n.t === 'assert') return n.kind === 'bol';
  if (n.t === 'cat') return n.items[0] !== undefined && startsAnchored(n.items[0]);
  return false;
}
