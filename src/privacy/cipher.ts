import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { EventEnvelope, SealedFields } from '../domain/events.ts';
import { TENANT_SUBJECT, type PersonalSpec } from '../domain/personal.ts';
import { StkError } from '../errors.ts';
import type { RetentionKind } from '../domain/personal.ts';

/** Where the cipher gets its keys: the key store, or (to check an export) the keys an export holds. */
export interface FieldKeys {
  cachedKey(tenant: string, keyId: string): Buffer | null | undefined;
  key(tenant: string, keyId: string): Promise<Buffer | null>;
  subjectId(tenant: string, subject: string): Promise<string>;
  keyFor(tenant: string, subjectId: string, kind: RetentionKind, period: string): Promise<{ keyId: string; key: Buffer }>;
  onDestroyed: (tenant: string, keyId: string | null) => void;
  /** The key for a subject by name when at hand without a round trip (the write path's fast way). */
  cachedKeyFor?(tenant: string, subject: string, kind: RetentionKind, period: string): { keyId: string; key: Buffer } | undefined;
}

// Nonces are drawn from a pooled CSPRNG buffer: one randomBytes call per 341 seals, not per seal.
const IV_POOL_BYTES = 4092;
let ivPool = randomBytes(IV_POOL_BYTES);
let ivOffset = 0;
function nonce(): Buffer {
  if (ivOffset + 12 > IV_POOL_BYTES) {
    ivPool = randomBytes(IV_POOL_BYTES);
    ivOffset = 0;
  }
  // A view: a pool is replaced when used up, never written again, so no nonce is ever reused.
  const iv = ivPool.subarray(ivOffset, ivOffset + 12);
  ivOffset += 12;
  return iv;
}
import { PERSONAL_FIELDS, retentionKindOf } from './registry.ts';

/** What a string field holds while it is sealed (what the sealer, an export and an auditor see). */
export const SEALED_TEXT = '[sealed]';
/** What a string field shows once its key is destroyed. Other JSON types become null. */
export const ERASED_TEXT = '[erased]';

const dec = new TextDecoder();
const DERIVED_MAX = 100_000;

/** The month an event's data key belongs to (UTC `YYYY-MM` of its time): the unit retention destroys. */
export const periodOf = (at: string): string => at.slice(0, 7);

/**
 * Field encryption in the one write path and the one read function. `seal` replaces the personal
 * fields of each event (as its domain names them, `PERSONAL_FIELDS`) with placeholders and adds
 * one AES-256-GCM ciphertext of their values, under a key derived from the data keys of every
 * subject the event names. `reveal` puts the values back, or marks them erased when any of those
 * keys is destroyed. The ledger hashes the stored bytes, so it covers the ciphertext, and
 * destroying a key changes nothing it has sealed.
 */
export class FieldCipher {
  readonly keys: FieldKeys;
  readonly #fields: ReadonlyMap<string, PersonalSpec>;
  readonly #derived = new Map<string, Buffer>();

  constructor(keys: FieldKeys, fields: ReadonlyMap<string, PersonalSpec> = PERSONAL_FIELDS) {
    this.keys = keys;
    this.#fields = fields;
    // A key derived from a destroyed one must go with it.
    keys.onDestroyed = () => this.#derived.clear();
  }

  /** True when events of this type carry personal fields. */
  hasPersonal(type: string): boolean {
    return this.#fields.has(type);
  }

  /** The events as they are stored: personal fields sealed. Throws STK_ERR_TENANT_DELETED for an offboarded tenant. */
  async seal(events: EventEnvelope[]): Promise<EventEnvelope[]> {
    const out: EventEnvelope[] = [];
    for (const e of events) {
      const plan = this.#plan(e);
      out.push(plan ? this.#encrypt(e, plan, this.#keysAtHand(e.tenant, plan) ?? (await this.#keysFor(e.tenant, plan))) : e);
    }
    return out;
  }

  /** `seal` without a promise when every key is at hand (the common case on a busy write path); null when a key must be fetched. */
  sealNow(events: EventEnvelope[]): EventEnvelope[] | null {
    const out: EventEnvelope[] = [];
    for (const e of events) {
      const plan = this.#plan(e);
      if (!plan) {
        out.push(e);
        continue;
      }
      const keys = this.#keysAtHand(e.tenant, plan);
      if (!keys) return null;
      out.push(this.#encrypt(e, plan, keys));
    }
    return out;
  }

  #keysAtHand(tenant: string, plan: { subjects: string[]; kind: RetentionKind; period: string }): Array<{ keyId: string; key: Buffer }> | null {
    const out: Array<{ keyId: string; key: Buffer }> = [];
    for (const s of plan.subjects) {
      const k = this.keys.cachedKeyFor?.(tenant, s, plan.kind, plan.period);
      if (!k) return null;
      out.push(k);
    }
    return out;
  }

  /** What of an event is sealed and under which subjects, kind and month; null when nothing is. */
  #plan(e: EventEnvelope): { values: Record<string, unknown>; paths: string[]; subjects: string[]; kind: RetentionKind; period: string } | null {
    const spec = this.#fields.get(e.type);
    if (!spec || e.sealed) return null;
    const values: Record<string, unknown> = {};
    const paths: string[] = [];
    for (const path of spec.fields) {
      const v = getPath(e.data, path);
      if (v === undefined) continue;
      values[path] = v;
      paths.push(path);
    }
    if (paths.length === 0) return null;
    const named = spec.subjects(e);
    // A placeholder is not a name: what an erased value stood for is no subject any more.
    const subjects =
      named.length === 1 && !named[0]!.includes('[')
        ? named
        : [...new Set(named.map((s) => (s.includes(ERASED_TEXT) || s.includes(SEALED_TEXT) ? TENANT_SUBJECT : s)))];
    if (subjects.length === 0) subjects.push(TENANT_SUBJECT);
    return { values, paths, subjects, kind: retentionKindOf(e), period: periodOf(e.at) };
  }

  async #keysFor(tenant: string, plan: { subjects: string[]; kind: RetentionKind; period: string }): Promise<Array<{ keyId: string; key: Buffer }>> {
    const out: Array<{ keyId: string; key: Buffer }> = [];
    for (const subject of plan.subjects) out.push(await this.keys.keyFor(tenant, await this.keys.subjectId(tenant, subject), plan.kind, plan.period));
    return out;
  }

  #encrypt(e: EventEnvelope, plan: { values: Record<string, unknown>; paths: string[] }, keys: Array<{ keyId: string; key: Buffer }>): EventEnvelope {
    const keyIds = keys.length === 1 ? [keys[0]!.keyId] : keys.map((k) => k.keyId);
    const key =
      keys.length === 1
        ? this.#derive(keyIds, [keys[0]!.key])
        : this.#derive(
            keyIds,
            keys.map((k) => k.key),
          );
    const iv = nonce();
    const c = createCipheriv('aes-256-gcm', key, iv);
    c.setAAD(aadOf(e, keyIds));
    // GCM's final() adds no bytes: the ciphertext is update()'s output, then the tag.
    const body = c.update(JSON.stringify(plan.values), 'utf8');
    c.final();
    const ct = Buffer.concat([body, c.getAuthTag()]);
    let data = e.data;
    for (const path of plan.paths) data = setPath(data, path, typeof plan.values[path] === 'string' ? SEALED_TEXT : null);
    const sealed: SealedFields = { v: 1, keys: keyIds, fields: plan.paths, iv: iv.toString('base64url'), ct: ct.toString('base64url') };
    return { ...e, data, sealed };
  }

  /**
   * The events with their personal fields readable again, or marked erased (`erased` lists the
   * paths, strings read `[erased]`) where a key is destroyed. Events without sealed fields come
   * back as they are. The one function every reader that needs meaning goes through.
   */
  async reveal(events: EventEnvelope[]): Promise<EventEnvelope[]> {
    // Load every key the batch needs first, then open each event without a round trip.
    const missing = new Map<string, { tenant: string; keyId: string }>();
    for (const e of events) {
      if (!e.sealed) continue;
      for (const keyId of e.sealed.keys)
        if (this.keys.cachedKey(e.tenant, keyId) === undefined) missing.set(`${e.tenant}/${keyId}`, { tenant: e.tenant, keyId });
    }
    if (missing.size) await Promise.all([...missing.values()].map((m) => this.keys.key(m.tenant, m.keyId)));
    return events.map((e) => this.#revealOne(e));
  }

  #revealOne(e: EventEnvelope): EventEnvelope {
    const s = e.sealed;
    if (!s) return e;
    const { sealed: _sealed, ...rest } = e;
    const keys: Buffer[] = [];
    for (const keyId of s.keys) {
      const k = this.keys.cachedKey(e.tenant, keyId);
      if (!k) return { ...rest, data: erase(e.data, s.fields), erased: [...s.fields] };
      keys.push(k);
    }
    const key = this.#derive(s.keys, keys);
    let values: Record<string, unknown>;
    try {
      const ct = Buffer.from(s.ct, 'base64url');
      const d = createDecipheriv('aes-256-gcm', key, Buffer.from(s.iv, 'base64url'));
      d.setAAD(aadOf(e, s.keys));
      d.setAuthTag(ct.subarray(ct.length - 16));
      values = JSON.parse(dec.decode(Buffer.concat([d.update(ct.subarray(0, ct.length - 16)), d.final()]))) as Record<string, unknown>;
    } catch (err) {
      throw new StkError(
        'STK_ERR_LOG_CORRUPT_RECORD',
        'sealed fields of an event do not open with their keys',
        { eventId: e.id, tenant: e.tenant },
        { cause: err },
      );
    }
    let data = e.data;
    for (const path of s.fields) data = setPath(data, path, values[path]);
    return { ...rest, data };
  }

  #derive(keyIds: readonly string[], keys: readonly Buffer[]): Buffer {
    // Key ids are unique across tenants (random), so one id names its key.
    const id = keyIds.length === 1 ? keyIds[0]! : keyIds.join(',');
    let k = this.#derived.get(id);
    if (!k) {
      k = Buffer.from(hkdfSync('sha256', Buffer.concat(keys), Buffer.alloc(0), `stockade fields v1\0${keyIds.join(',')}`, 32));
      if (this.#derived.size >= DERIVED_MAX) this.#derived.clear();
      this.#derived.set(id, k);
    }
    return k;
  }
}

/** Binds a ciphertext to its event, so it cannot be moved to another one. */
function aadOf(e: Pick<EventEnvelope, 'tenant' | 'id' | 'type'>, keyIds: readonly string[]): Buffer {
  return Buffer.from(`stockade fields v1\0${e.tenant}\0${e.id}\0${e.type}\0${keyIds.join(',')}`);
}

/** The erased form of sealed paths: strings read `[erased]`, anything else null. */
function erase(data: unknown, paths: readonly string[]): unknown {
  let out = data;
  for (const path of paths) out = setPath(out, path, getPath(out, path) === SEALED_TEXT ? ERASED_TEXT : null);
  return out;
}

/** The value at a dotted path of a JSON object; undefined where the path does not lead. */
export function getPath(data: unknown, path: string): unknown {
  let v: unknown = data;
  for (const part of path.split('.')) {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/** A copy of `data` with `value` at a dotted path; only the objects along the path are copied. */
export function setPath(data: unknown, path: string, value: unknown): unknown {
  const dot = path.indexOf('.');
  const obj = data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
  if (dot < 0) return { ...obj, [path]: value };
  const head = path.slice(0, dot);
  return { ...obj, [head]: setPath(obj[head], path.slice(dot + 1), value) };
}
