/**
 * Field slots: every Sigma field a compiled rule names gets a small integer per logsource, and the
 * evaluator reads each field of an item at most once (raw, then its string and lower-cased forms),
 * however many rules test it.
 */
import { type FieldValue, type LogsourceDef, resolveField } from './logsources.ts';
import type { FieldReader } from './types.ts';

type Getter = (item: Record<string, unknown>) => FieldValue;

class SlotTable {
  readonly names: string[] = [];
  readonly getters: Getter[] = [];
  private readonly index = new Map<string, number>();

  constructor(private readonly ls: LogsourceDef) {}

  slot(name: string): number | undefined {
    const known = this.index.get(name);
    if (known !== undefined) return known;
    const spec = resolveField(this.ls, name);
    if (!spec) return undefined;
    this.names.push(name);
    this.getters.push(spec.get);
    this.index.set(name, this.names.length - 1);
    return this.names.length - 1;
  }
}

const tables = new Map<string, SlotTable>();

function table(ls: LogsourceDef): SlotTable {
  let t = tables.get(ls.key);
  if (!t) {
    t = new SlotTable(ls);
    tables.set(ls.key, t);
  }
  return t;
}

/** The slot of field `name` in logsource `ls`, or undefined when the logsource has no such field. */
export function fieldSlot(ls: LogsourceDef, name: string): number | undefined {
  return table(ls).slot(name);
}

type Strings = string | readonly string[] | null;

function toStrings(v: FieldValue): Strings {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const out: string[] = [];
  for (const e of v) if (e !== null) out.push(String(e));
  return out.length ? out : null;
}

function lower(s: Strings): Strings {
  if (s === null || typeof s === 'string') return s === null ? null : s.toLowerCase();
  return s.map((e) => e.toLowerCase());
}

/**
 * One reader per logsource, reset for each item. Reuse is safe because evaluation is synchronous
 * and never re-entered; it saves three arrays per item on the hot path.
 */
export class ItemFields implements FieldReader {
  private item: Record<string, unknown> = {};
  private gen = 0;
  private stamp: Uint32Array = new Uint32Array(16);
  private rawV: FieldValue[] = [];
  private strV: Strings[] = [];
  private lowV: Strings[] = [];
  private strStamp: Uint32Array = new Uint32Array(16);
  private lowStamp: Uint32Array = new Uint32Array(16);
  private readonly t: SlotTable;

  constructor(ls: LogsourceDef) {
    this.t = table(ls);
  }

  reset(item: Record<string, unknown>): this {
    this.item = item;
    if (++this.gen === 0xffffffff) {
      this.stamp.fill(0);
      this.strStamp.fill(0);
      this.lowStamp.fill(0);
      this.gen = 1;
    }
    // Rules compiled after this reader was made may have added slots.
    if (this.stamp.length < this.t.names.length) this.grow(this.t.names.length * 2);
    return this;
  }

  raw(slot: number): FieldValue {
    if (this.stamp[slot] !== this.gen) {
      this.rawV[slot] = this.t.getters[slot]!(this.item);
      this.stamp[slot] = this.gen;
    }
    return this.rawV[slot];
  }

  str(slot: number): Strings {
    if (this.strStamp[slot] !== this.gen) {
      this.strV[slot] = toStrings(this.raw(slot));
      this.strStamp[slot] = this.gen;
    }
    return this.strV[slot]!;
  }

  low(slot: number): Strings {
    if (this.lowStamp[slot] !== this.gen) {
      this.lowV[slot] = lower(this.str(slot));
      this.lowStamp[slot] = this.gen;
    }
    return this.lowV[slot]!;
  }

  private grow(n: number): void {
    const widen = (a: Uint32Array): Uint32Array => {
      const b = new Uint32Array(n);
      b.set(a);
      return b;
    };
    this.stamp = widen(this.stamp);
    this.strStamp = widen(this.strStamp);
    this.lowStamp = widen(this.lowStamp);
  }
}
