/**
 * A linear-time matcher for `|re` values: the parsed pattern is compiled to a small program and
 * run as a Thompson NFA simulation (every live state advanced in lock-step, one pass over the
 * subject), so the work is at most (subject length × program size) whatever the pattern. A
 * backtracking engine (JavaScript's RegExp) takes seconds on `.*b.*c` over 1,000 `b`s; a rule
 * must not be able to do that to the detector, and a process can choose its own command line.
 */
import { requiredGroups, startsAnchored } from './regex-literals.ts';
import { type CharSet, checkSafety, type Node, parseRegex, RegexSyntaxError } from './regex-parse.ts';

/** Largest compiled program, in instructions (repeats `{n,m}` are expanded). */
export const MAX_RE_PROGRAM = 2000;

const SET = 0;
const SPLIT = 1;
const JMP = 2;
const ASSERT = 3;
const MATCH = 4;

const BOL = 0;
const EOL = 1;
const WORDB = 2;
const NWORDB = 3;
const ASSERT_KINDS = { bol: BOL, eol: EOL, wordb: WORDB, nwordb: NWORDB } as const;

export interface RegexFlags {
  /** `|re|i`: case-insensitive. */
  i: boolean;
  /** `|re|m`: `^` and `$` also match at line breaks. */
  m: boolean;
  /** `|re|s`: `.` also matches line breaks. */
  s: boolean;
}

/**
 * A compiled pattern. When `foldsNeedles` is set (a case-insensitive pattern with literals to
 * pre-check), `test` needs `lower`, the subject lower-cased; otherwise it may be null.
 */
export interface SafeRegex {
  readonly foldsNeedles: boolean;
  test(raw: string, lower: string | null): boolean;
}

/**
 * Parses, checks (`checkSafety`) and compiles `source`; throws RegexSyntaxError when it is outside
 * the accepted flavour or refused by the heuristic.
 */
export function compileRegex(source: string, flags: RegexFlags): SafeRegex {
  const tree = parseRegex(source, flags.s);
  const unsafe = checkSafety(tree)[0];
  if (unsafe) throw new RegexSyntaxError(unsafe.reason, unsafe.at);
  const prog = new Program();
  prog.emit(tree, flags.i);
  prog.push(MATCH, 0, 0);
  if (prog.op.length > MAX_RE_PROGRAM) throw new RegexSyntaxError(`pattern expands to more than ${MAX_RE_PROGRAM} instructions`, 0);
  const groups = requiredGroups(tree).map((g) => (flags.i ? g.map((x) => x.toLowerCase()) : g));
  const anchored = !flags.m && startsAnchored(tree);
  const vm = new Machine(prog, flags.m, anchored);
  const needles = groups.length > 0;
  // Every group must have one of its literals in the subject before the machine is worth running.
  const pre = (hay: string): boolean => {
    for (const g of groups) {
      let found = false;
      for (const lit of g) if (hay.includes(lit)) found = true;
      if (!found) return false;
    }
    return true;
  };
  return {
    foldsNeedles: flags.i && needles,
    test(raw, lower) {
      if (needles && !pre(flags.i ? (lower ?? raw.toLowerCase()) : raw)) return false;
      return vm.run(raw);
    },
  };
}

type SetTest = (c: number) => boolean;

class Program {
  op: number[] = [];
  x: number[] = [];
  y: number[] = [];
  sets: SetTest[] = [];
  /** Per set, 128 bytes: 1 where the ASCII character is in the set (read inline by the machine). */
  ascii: number[] = [];

  push(op: number, x: number, y: number): number {
    this.op.push(op);
    this.x.push(x);
    this.y.push(y);
    return this.op.length - 1;
  }

  emit(n: Node, fold: boolean): void {
    // Bail out early: `{100}` nested in `{100}` would otherwise build a huge array first.
    if (this.op.length > MAX_RE_PROGRAM) return;
    switch (n.t) {
      case 'set': {
        const test = setTest(n.set, fold);
        this.sets.push(test);
        for (let c = 0; c < 128; c++) this.ascii.push(test(c) ? 1 : 0);
        this.push(SET, this.sets.length - 1, 0);
        return;
      }
      case 'assert':
        this.push(ASSERT, ASSERT_KINDS[n.kind], 0);
        return;
      case 'cat':
        for (const item of n.items) this.emit(item, fold);
        return;
      case 'alt': {
        const jumps: number[] = [];
        n.alts.forEach((alt, k) => {
          if (k < n.alts.length - 1) {
            const split = this.push(SPLIT, this.op.length + 1, 0);
            this.emit(alt, fold);
            jumps.push(this.push(JMP, 0, 0));
            this.y[split] = this.op.length;
          } else this.emit(alt, fold);
        });
        for (const j of jumps) this.x[j] = this.op.length;
        return;
      }
      case 'rep': {
        for (let k = 0; k < n.min; k++) this.emit(n.body, fold);
        if (n.max === Infinity) {
          const loop = this.push(SPLIT, this.op.length + 1, 0);
          this.emit(n.body, fold);
          this.push(JMP, loop, 0);
          this.y[loop] = this.op.length;
          return;
        }
        const exits: number[] = [];
        for (let k = n.min; k < n.max; k++) {
          exits.push(this.push(SPLIT, this.op.length + 1, 0));
          this.emit(n.body, fold);
        }
        for (const e of exits) this.y[e] = this.op.length;
        return;
      }
    }
  }
}

class Machine {
  private readonly op: Int32Array;
  private readonly x: Int32Array;
  private readonly y: Int32Array;
  private readonly sets: SetTest[];
  private readonly ascii: Uint8Array;
  /** ASCII characters a match can start with; null when a match may start with nothing consumed. */
  private readonly start: Uint8Array | null;
  // Buffers are reused across runs: matching is synchronous and never re-entered.
  private clist: Int32Array;
  private nlist: Int32Array;
  private readonly mark: Uint32Array;
  private readonly stack: Int32Array;
  private gen = 0;

  constructor(
    prog: Program,
    private readonly multiline: boolean,
    private readonly anchored: boolean,
  ) {
    this.op = Int32Array.from(prog.op);
    this.x = Int32Array.from(prog.x);
    this.y = Int32Array.from(prog.y);
    this.sets = prog.sets;
    this.ascii = Uint8Array.from(prog.ascii);
    const n = prog.op.length;
    this.clist = new Int32Array(n);
    this.nlist = new Int32Array(n);
    this.mark = new Uint32Array(n);
    // An instruction is marked when popped and only a popped, unmarked one pushes (at most two),
    // so one closure pushes at most 2n + 1 entries.
    this.stack = new Int32Array(2 * n + 2);
    this.start = this.startChars();
  }

  /** Union of the sets reachable from the start without consuming input, assertions taken as passing. */
  private startChars(): Uint8Array | null {
    const seen = new Uint8Array(this.op.length);
    const out = new Uint8Array(128);
    const todo = [0];
    while (todo.length) {
      const pc = todo.pop()!;
      if (seen[pc]) continue;
      seen[pc] = 1;
      switch (this.op[pc]) {
        case MATCH:
          return null;
        case JMP:
          todo.push(this.x[pc]!);
          break;
        case SPLIT:
          todo.push(this.x[pc]!, this.y[pc]!);
          break;
        case ASSERT:
          todo.push(pc + 1);
          break;
        default:
          for (let c = 0; c < 128; c++) if (this.ascii[(this.x[pc]! << 7) + c]) out[c] = 1;
      }
    }
    return out;
  }

  /** First position at or after `from` where a match could start (non-ASCII always could). */
  private skip(s: string, from: number): number {
    const start = this.start!;
    let p = from;
    for (; p < s.length; p++) {
      const c = s.charCodeAt(p);
      if (c >= 128 || start[c] === 1) break;
    }
    return p;
  }

  run(s: string): boolean {
    const n = s.length;
    const { op, x, ascii, sets } = this;
    let pos = !this.anchored && this.start ? this.skip(s, 0) : 0;
    if (this.start && pos >= n) return false;
    this.nextGen();
    let cn = this.add(this.clist, 0, 0, s, pos);
    for (; ; pos++) {
      this.nextGen();
      let nn = 0;
      const c = pos < n ? s.charCodeAt(pos) : -1;
      for (let k = 0; k < cn; k++) {
        const pc = this.clist[k]!;
        if (op[pc] === MATCH) return true;
        if (c < 0) continue;
        const set = x[pc]!;
        if (c < 128 ? ascii[(set << 7) + c] === 1 : sets[set]!(c)) nn = this.add(this.nlist, nn, pc + 1, s, pos + 1);
      }
      if (pos >= n) return false;
      if (this.anchored) {
        if (nn === 0) return false;
      } else if (nn === 0 && this.start) {
        // Nothing is in flight: jump to where a match could begin instead of seeding every position.
        const next = this.skip(s, pos + 1);
        if (next >= n) return false;
        pos = next - 1;
        // The marks of this step were made for position pos + 1; the seed is for another position.
        this.nextGen();
        nn = this.add(this.nlist, nn, 0, s, next);
      } else nn = this.add(this.nlist, nn, 0, s, pos + 1);
      const t = this.clist;
      this.clist = this.nlist;
      this.nlist = t;
      cn = nn;
    }
  }

  private nextGen(): void {
    if (++this.gen === 0xffffffff) {
      this.mark.fill(0);
      this.gen = 1;
    }
  }

  /** Adds `pc` and everything reachable from it without consuming input; returns the new list length. */
  private add(list: Int32Array, len: number, pc: number, s: string, pos = 0): number {
    const { op, x, y, mark, stack } = this;
    let sp = 0;
    stack[sp++] = pc;
    while (sp > 0) {
      const p = stack[--sp]!;
      if (mark[p] === this.gen) continue;
      mark[p] = this.gen;
      switch (op[p]) {
        case JMP:
          stack[sp++] = x[p]!;
          break;
        case SPLIT:
          stack[sp++] = y[p]!;
          stack[sp++] = x[p]!;
          break;
        case ASSERT:
          if (this.holds(x[p]!, s, pos)) stack[sp++] = p + 1;
          break;
        default:
          list[len++] = p;
      }
    }
    return len;
  }

  private holds(kind: number, s: string, pos: number): boolean {
    switch (kind) {
      case BOL:
        return pos === 0 || (this.multiline && isLineBreak(s.charCodeAt(pos - 1)));
      case EOL:
        return pos === s.length || (this.multiline && isLineBreak(s.charCodeAt(pos)));
      case WORDB:
        return isWordAt(s, pos - 1) !== isWordAt(s, pos);
      default:
        return isWordAt(s, pos - 1) === isWordAt(s, pos);
    }
  }
}

function isLineBreak(c: number): boolean {
  return c === 10 || c === 13 || c === 0x2028 || c === 0x2029;
}

function isWord(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

function isWordAt(s: string, i: number): boolean {
  return i >= 0 && i < s.length && isWord(s.charCodeAt(i));
}

function isSpace(c: number): boolean {
  return (
    (c >= 9 && c <= 13) ||
    c === 32 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

const CLASS_TESTS: Record<CharSet['classes'][number], SetTest> = {
  d: (c) => c >= 48 && c <= 57,
  D: (c) => !(c >= 48 && c <= 57),
  w: isWord,
  W: (c) => !isWord(c),
  s: isSpace,
  S: (c) => !isSpace(c),
  dot: (c) => !isLineBreak(c),
  dotall: () => true,
};

/** One character-set test: an ASCII table for speed, the set's definition for anything wider. */
function setTest(set: CharSet, fold: boolean): SetTest {
  const classes = set.classes.map((k) => CLASS_TESTS[k]);
  const raw = (c: number): boolean => {
    for (let k = 0; k < set.ranges.length; k += 2) if (c >= set.ranges[k]! && c <= set.ranges[k + 1]!) return true;
    for (const t of classes) if (t(c)) return true;
    return false;
  };
  const folded = (c: number): boolean => {
    if (raw(c)) return true;
    // As JavaScript's /i does: a non-ASCII character never folds onto an ASCII one (ſ is not s).
    const ch = String.fromCharCode(c);
    const lo = ch.toLowerCase();
    const up = ch.toUpperCase();
    const ok = (f: string): boolean => f.length === 1 && !(c >= 128 && f.charCodeAt(0) < 128) && raw(f.charCodeAt(0));
    return ok(lo) || ok(up);
  };
  const test = fold ? folded : raw;
  const table = new Uint8Array(128);
  for (let c = 0; c < 128; c++) table[c] = test(c) !== set.negate ? 1 : 0;
  return (c) => (c < 128 ? table[c] === 1 : test(c) !== set.negate);
}
