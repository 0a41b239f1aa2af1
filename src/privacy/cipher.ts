import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { nonce } from '../nonce.ts';
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
  /** Moves on whenever a key `cachedKeyFor` handed out may no longer be the one to seal with (destroyed, index changed). */
  readonly generation?: number;
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
  /** Per event type, its personal paths split once (a split per field and event shows in a busy write path). */
  readonly #parts = new Map<string, ReadonlyArray<readonly string[]>>();
  /**
   * The write path's cache: tenant, kind, month and subjects → key ids, derived key and associated
   * data around the event's own part. Dropped whole when the key store's generation moves or a key
   * is destroyed, so nothing is sealed under a key the store no longer hands out.
   */
  readonly #contexts = new Map<string, SealContext>();
  #generation = 0;

  constructor(keys: FieldKeys, fields: ReadonlyMap<string, PersonalSpec> = PERSONAL_FIELDS) {
    this.keys = keys;
    this.#fields = fields;
    // A key derived from a destroyed one must go with it.
    keys.onDestroyed = () => {
      this.#derived.clear();
      this.#contexts.clear();
    };
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
      out.push(plan ? this.#encrypt(e, plan, this.#contextAtHand(e.tenant, plan) ?? (await this.#contextFor(e.tenant, plan))) : e);
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
      const context = this.#contextAtHand(e.tenant, plan);
      if (!context) return null;
      out.push(this.#encrypt(e, plan, context));
    }
    return out;
  }

  /** The sealing context of a plan from what this process holds, without a promise; null when a key must be fetched. */
  #contextAtHand(tenant: string, plan: Plan): SealContext | null {
    const generation = this.keys.generation ?? 0;
    if (generation !== this.#generation) {
      this.#contexts.clear();
      this.#generation = generation;
    }
    const found = plan.id === null ? undefined : this.#contexts.get(plan.id);
    if (found) return found;
    const keys: Array<{ keyId: string; key: Buffer }> = [];
    for (const s of plan.subjects) {
      const k = this.keys.cachedKeyFor?.(tenant, s, plan.kind, plan.period);
      if (!k) return null;
      keys.push(k);
    }
    return this.#remember(tenant, plan, keys, generation);
  }

  /** What of an event is sealed and under which subjects, kind and month; null when nothing is. */
  #plan(e: EventEnvelope): Plan | null {
    const spec = this.#fields.get(e.type);
    if (!spec || e.sealed) return null;
    let parts = this.#parts.get(e.type);
    if (!parts) {
      parts = spec.fields.map((p) => p.split('.'));
      this.#parts.set(e.type, parts);
    }
    const values: Record<string, unknown> = {};
    const paths: string[] = [];
    for (let i = 0; i < parts.length; i++) {
      const v = valueAt(e.data, parts[i]!);
      if (v === undefined) continue;
      const path = spec.fields[i]!;
      values[path] = v;
      paths.push(path);
    }
    if (paths.length === 0) return null;
    const named = spec.subjects(e);
    // A placeholder is not a name: what an erased value stood for is no subject any more.
    let subjects = named;
    for (const s of named) {
      if (s.includes('[')) {
        subjects = [...new Set(named.map((n) => (n.includes(ERASED_TEXT) || n.includes(SEALED_TEXT) ? TENANT_SUBJECT : n)))];
        break;
      }
    }
    if (repeats(subjects)) subjects = [...new Set(subjects)];
    if (subjects.length === 0) subjects = [TENANT_SUBJECT];
    const kind = retentionKindOf(e);
    const period = periodOf(e.at);
    // Tenant, kind and month hold no NUL (ids and a date); a subject that does is not cached, so no two plans share an id.
    let id: string | null = `${e.tenant}\0${kind}\0${period}`;
    for (const s of subjects) id = id === null || s.includes('\0') ? null : `${id}\0${s}`;
    return { values, paths, subjects, kind, period, id };
  }

  async #contextFor(tenant: string, plan: Plan): Promise<SealContext> {
    // Read before the round trips: a destruction while they run leaves this context out of the cache.
    const generation = this.keys.generation ?? 0;
    const keys: Array<{ keyId: string; key: Buffer }> = [];
    for (const subject of plan.subjects) keys.push(await this.keys.keyFor(tenant, await this.keys.subjectId(tenant, subject), plan.kind, plan.period));
    return this.#remember(tenant, plan, keys, generation);
  }

  #remember(tenant: string, plan: Plan, keys: Array<{ keyId: string; key: Buffer }>, generation: number): SealContext {
    const keyIds = keys.map((k) => k.keyId);
    const context: SealContext = {
      keyIds,
      key: this.#derive(
        keyIds,
        keys.map((k) => k.key),
      ),
      aadHead: `${AAD_LABEL}\0${tenant}\0`,
      aadTail: `\0${keyIds.join(',')}`,
    };
    if (plan.id !== null && generation === (this.keys.generation ?? 0) && generation === this.#generation) {
      if (this.#contexts.size >= CONTEXTS_MAX) this.#contexts.clear();
      this.#contexts.set(plan.id, context);
    }
    return context;
  }

  #encrypt(e: EventEnvelope, plan: Plan, context: SealContext): EventEnvelope {
    const { iv, text: ivText } = nonce();
    const c = createCipheriv('aes-256-gcm', context.key, iv);
    c.setAAD(aadBytes(`${context.aadHead}${e.id}\0${e.type}${context.aadTail}`));
    // GCM's final() adds no bytes: the ciphertext is update()'s output, then the tag.
    const body = c.update(JSON.stringify(plan.values), 'utf8');
    c.final();
    const ct = Buffer.concat([body, c.getAuthTag()], body.length + 16);
    const sealed: SealedFields = { v: 1, keys: [...context.keyIds], fields: plan.paths, iv: ivText, ct: ct.toString('base64url') };
    return sealedEnvelope(e, placeholders(e.data, plan), sealed);
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

/** What of an event is sealed, under which subjects, kind and month, and the id of its sealing context (null: not cached). */
interface Plan {
  values: Record<string, unknown>;
  paths: string[];
  subjects: string[];
  kind: RetentionKind;
  period: string;
  id: string | null;
}

/** Everything sealing needs that is the same for every event of one tenant, kind, month and set of subjects. */
interface SealContext {
  keyIds: readonly string[];
  key: Buffer;
  /** The associated data before the event id, and after the event type (`aadOf`). */
  aadHead: string;
  aadTail: string;
}

const AAD_LABEL = 'stockade fields v1';
const CONTEXTS_MAX = 100_000;

/** Binds a ciphertext to its event, so it cannot be moved to another one. */
function aadOf(e: Pick<EventEnvelope, 'tenant' | 'id' | 'type'>, keyIds: readonly string[]): Buffer {
  return Buffer.from(`${AAD_LABEL}\0${e.tenant}\0${e.id}\0${e.type}\0${keyIds.join(',')}`);
}

// setAAD absorbs the bytes at once (GHASH), so one scratch buffer serves every seal.
const aadScratch = Buffer.allocUnsafe(1024);
function aadBytes(text: string): Buffer {
  // UTF-8 takes at most 3 bytes per UTF-16 unit: a text that might not fit gets its own buffer.
  return text.length * 3 <= aadScratch.length ? aadScratch.subarray(0, aadScratch.write(text, 'utf8')) : Buffer.from(text);
}

/**
 * The stored form of an envelope, written out field by field in the envelope's order: a spread that
 * then adds `sealed` takes V8's slow path, about a tenth of a seal. A new required field of
 * EventEnvelope fails to compile here; a new optional one must be added by hand.
 */
function sealedEnvelope(e: EventEnvelope, data: unknown, sealed: SealedFields): EventEnvelope {
  const out = {
    id: e.id,
    type: e.type,
    tenant: e.tenant,
    aggregate: e.aggregate,
    version: e.version,
    at: e.at,
    actor: e.actor,
    causationId: e.causationId,
    correlationId: e.correlationId,
    schema: e.schema,
    data,
    sealed,
  } satisfies Required<Omit<EventEnvelope, 'erased'>>;
  return e.erased === undefined ? out : { ...out, erased: e.erased };
}

/** True when a (short) list names something twice; a Set per event costs more than the few comparisons. */
function repeats(xs: readonly string[]): boolean {
  for (let i = 1; i < xs.length; i++) for (let j = 0; j < i; j++) if (xs[i] === xs[j]) return true;
  return false;
}

/** The value at a path split into its parts; undefined where the path does not lead. */
function valueAt(data: unknown, parts: readonly string[]): unknown {
  let v: unknown = data;
  for (const part of parts) {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/** `data` with the sealed paths replaced by their placeholders; top-level paths share one copy of the object. */
function placeholders(data: unknown, plan: Pick<Plan, 'values' | 'paths'>): unknown {
  let out = { ...(data as Record<string, unknown>) } as unknown;
  for (const path of plan.paths) {
    const placeholder = typeof plan.values[path] === 'string' ? SEALED_TEXT : null;
    if (path.includes('.')) out = setPath(out, path, placeholder);
    else (out as Record<string, unknown>)[path] = placeholder;
  }
  return out;
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
