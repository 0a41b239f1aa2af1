import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { StkError } from '../errors.ts';
import { assertId, isValidId, newId } from '../ids.ts';
import type { Bucket, Streams } from '../log/mod.ts';
import type { RetentionKind } from '../domain/personal.ts';

/** Tenant keys (one AES-256 key per tenant, in the clear): the bucket the sealer and auditors may not read. */
export const TENANT_KEYS_BUCKET = 'stk-tenant-keys';
/** Data keys, each wrapped by its tenant's key, and the index that finds a subject's key for a kind and month. */
export const DATA_KEYS_BUCKET = 'stk-data-keys';

const kvStream = (bucket: string): string => `KV_${bucket}`;

/** A tenant's key, or the tombstone of its offboarding (when, and the data key ids the offboarding recorded). */
type TenantKeyRecord = { v: 1; key: string; createdAt: string } | { v: 1; destroyed: string; keyIds?: string[] };
interface DataKeyRecord {
  v: 1;
  /** AES-256-GCM under the tenant key: nonce ‖ ciphertext ‖ tag, base64url. */
  wrapped: string;
  subject: string;
  kind: RetentionKind;
  period: string;
  createdAt: string;
}

/** A data key as its owners list it (never its bytes). */
export interface DataKeyInfo {
  keyId: string;
  subject: string;
  kind: RetentionKind;
  period: string;
}

/** A tenant's key, or the tombstone an offboarding leaves so that no key is ever made for it again. */
export type TenantKey = Buffer | 'destroyed' | null;

/** How an erasure is kept in the data key bucket (`e.<tenant>.<erasureId>`): ids, counts and times, never a name. */
interface ErasureEntry {
  v: 1;
  erasureId: string;
  subject: string;
  keyIds: string[];
  telemetryUpTo: number;
  telemetryRemoved: number;
  at: string;
  /** The operator's reference, AES-256-GCM under a key derived from the tenant key (it may name the person). */
  reference?: string;
}

/**
 * An erasure as the key store keeps it, so that a restore of a backup made before it can honour
 * it: the key store is never backed up and survives a restore, like the destroyed keys.
 */
export interface ErasureRecord {
  tenant: string;
  erasureId: string;
  /** The subject's id (the HMAC its keys are filed under), never its name. */
  subject: string;
  keyIds: string[];
  /** TELEMETRY's last sequence once the machine's items were purged (0 for a subject that is no machine): restored items of the machine up to it are purged again. */
  telemetryUpTo: number;
  /** Telemetry items the erasure removed. */
  telemetryRemoved: number;
  /** When the erasure was done (ISO). */
  at: string;
  /** The operator's reference; null when none was given, or when it can no longer be read (the tenant was offboarded since). */
  reference: string | null;
}

/** An offboarding as its tombstone keeps it. */
export interface OffboardingRecord {
  tenant: string;
  /** When the tenant key was destroyed (ISO). */
  at: string;
  /** The data key ids the offboarding recorded as destroyed; empty for a tombstone written before they were kept. */
  keyIds: string[];
}

/** How long a data key that should exist but is not (yet) visible is retried before it counts as gone. */
const MISSING_RETRY_MS = [50, 200, 750];
/** How long "this key is not there" is remembered for a key that was never seen destroyed. */
const UNKNOWN_TTL_MS = 60_000;
const CACHE_MAX = 200_000;

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * The key store of field encryption: per tenant one tenant key, per tenant, data subject, retention
 * kind and month one data key, wrapped by the tenant key. Both live in NATS KV buckets, replicated
 * like the streams, so every process of the install (API, ingress, projector) shares them and a
 * destruction is seen by all; neither is ever part of a backup. Destroying a key erases its stored
 * message (JetStream secure erase) and leaves a purge marker, so watchers in every process drop
 * their cached copy and a reader can tell "destroyed" from "not written yet".
 *
 * Subject names never reach the store: a subject is filed under an HMAC of its name with a key
 * derived from the tenant key, so the buckets list no user or host names, and an offboarded
 * tenant's subject ids cannot even be recomputed.
 *
 * Because it is never backed up and outlives a restore, the store also remembers what a restore
 * of an older backup must do again: each erasure (`e.<tenant>.<erasureId>` in the data key
 * bucket: the subject's id, the key ids, how far TELEMETRY had come, the operator's reference
 * sealed under the tenant key) and each offboarding (the tenant key's tombstone, with the key ids
 * its destruction listed). Ids, counts and times only: no name.
 */
export class KeyStore {
  readonly #streams: Streams;
  readonly #tenants: Bucket;
  readonly #data: Bucket;
  readonly #now: () => Date;
  readonly #tenantKeys = new Map<string, Buffer | 'destroyed'>();
  readonly #namers = new Map<string, Buffer>();
  /** Subject ids already computed, by tenant and name (an HMAC per event is most of a seal's cost otherwise). */
  readonly #subjectIds = new Map<string, string>();
  /** The write path's cache: tenant, subject name, kind and month → the key to seal with. Dropped whole on any destruction. */
  readonly #hot = new Map<string, { keyId: string; key: Buffer }>();
  #generation = 0;
  readonly #keys = new Map<string, Buffer>();
  readonly #index = new Map<string, string>();
  readonly #gone = new Set<string>();
  readonly #unknown = new Map<string, number>();
  readonly #inflight = new Map<string, Promise<unknown>>();
  readonly #watches: Array<{ stop(): void }> = [];
  /** Told of every key this process learns is destroyed (the cipher drops what it derived from it). */
  onDestroyed: (tenant: string, keyId: string | null) => void = () => {};

  private constructor(streams: Streams, tenants: Bucket, data: Bucket, now: () => Date) {
    this.#streams = streams;
    this.#tenants = tenants;
    this.#data = data;
    this.#now = now;
  }

  /** Opens (creating if missing) both buckets and watches them for destructions made by other processes. */
  static async open(streams: Streams, o: { replicas?: number; now?: () => Date } = {}): Promise<KeyStore> {
    const replicas = o.replicas ?? 1;
    const tenants = await streams.bucket(TENANT_KEYS_BUCKET, { history: 1, replicas });
    const data = await streams.bucket(DATA_KEYS_BUCKET, { history: 1, replicas });
    const ks = new KeyStore(streams, tenants, data, o.now ?? (() => new Date()));
    await ks.#watch();
    return ks;
  }

  async #watch(): Promise<void> {
    try {
      const t = await this.#tenants.watch({ include: 'updates' as never });
      const d = await this.#data.watch({ include: 'updates' as never });
      this.#watches.push(t, d);
      void (async () => {
        for await (const e of t) {
          this.#tenantKeys.delete(e.key);
          this.#namers.delete(e.key);
          this.#subjectIds.clear();
          this.#dropHot();
          if (e.operation !== 'PUT' || e.string().includes('"destroyed"')) this.onDestroyed(e.key, null);
        }
      })().catch(() => {});
      void (async () => {
        for await (const e of d) {
          if (e.operation === 'PUT') continue;
          const [kind, tenant, ...rest] = e.key.split('.');
          if (kind === 'k' && tenant && rest[0]) this.#forget(tenant, rest[0]);
          else if (kind === 's') {
            this.#index.delete(e.key);
            this.#dropHot();
          }
        }
      })().catch(() => {});
    } catch (err) {
      throw unavailable(err, 'cannot watch the key store');
    }
  }

  /** Stops the watches; cached keys are dropped. */
  close(): void {
    for (const w of this.#watches) w.stop();
    this.#dropHot();
    this.#keys.clear();
    this.#tenantKeys.clear();
    this.#namers.clear();
  }

  // ── tenant keys ────────────────────────────────────────────────────────────────────────────

  /** The tenant's key: made on first use when `create`; 'destroyed' once the tenant was offboarded. */
  async tenantKey(tenant: string, create: boolean): Promise<TenantKey> {
    const cached = this.#tenantKeys.get(tenant);
    if (cached) return cached;
    assertId('tenant', tenant, 'tenant');
    return this.#once(`t/${tenant}/${create}`, async () => {
      for (let attempt = 0; attempt < 3; attempt++) {
        const found = await this.#readTenantKey(tenant);
        if (found || !create) return found;
        const key = randomBytes(32);
        const record: TenantKeyRecord = { v: 1, key: key.toString('base64url'), createdAt: this.#now().toISOString() };
        try {
          await this.#tenants.create(tenant, enc.encode(JSON.stringify(record)));
          this.#tenantKeys.set(tenant, key);
          return key;
        } catch {
          // Another process made it first (or destroyed it): read what is there.
        }
      }
      throw new StkError('STK_ERR_KEYSTORE_UNAVAILABLE', 'cannot create the tenant key', { tenant });
    });
  }

  async #readTenantKey(tenant: string): Promise<TenantKey> {
    const e = await this.#get(this.#tenants, tenant);
    if (e?.operation !== 'PUT') return null;
    const r = JSON.parse(dec.decode(e.value)) as TenantKeyRecord;
    const key = 'destroyed' in r ? 'destroyed' : Buffer.from(r.key, 'base64url');
    this.#tenantKeys.set(tenant, key);
    return key;
  }

  /** The HMAC key subject ids are made with, derived from the tenant key. */
  async #namer(tenant: string): Promise<Buffer> {
    const known = this.#namers.get(tenant);
    if (known) return known;
    const tk = await this.tenantKey(tenant, true);
    if (tk === 'destroyed') throw tenantDeleted(tenant);
    if (!tk) throw new StkError('STK_ERR_KEYSTORE_UNAVAILABLE', 'no tenant key', { tenant });
    const namer = Buffer.from(hkdfSync('sha256', tk, Buffer.alloc(0), 'stockade subject ids v1', 32));
    this.#namers.set(tenant, namer);
    return namer;
  }

  /** The id a subject is filed under: HMAC-SHA256 of its name, 128 bits, base64url. Makes the tenant key if needed. */
  async subjectId(tenant: string, subject: string): Promise<string> {
    const cached = this.#subjectIds.get(`${tenant}\0${subject}`);
    if (cached) return cached;
    const namer = this.#namers.get(tenant) ?? (await this.#namer(tenant));
    const id = createHmac('sha256', namer).update(subject).digest().toString('base64url', 0, 16);
    if (this.#subjectIds.size >= CACHE_MAX) this.#subjectIds.clear();
    this.#subjectIds.set(`${tenant}\0${subject}`, id);
    return id;
  }

  /**
   * The data key for a subject (by name), kind and month when this process has it at hand, without
   * a round trip or a promise: the write path's fast way; undefined when it must ask `keyFor`.
   */
  cachedKeyFor(tenant: string, subject: string, kind: RetentionKind, period: string): { keyId: string; key: Buffer } | undefined {
    const hot = `${tenant}\0${subject}\0${kind}\0${period}`;
    const found = this.#hot.get(hot);
    if (found) return found;
    const subjectId = this.#subjectIds.get(`${tenant}\0${subject}`);
    if (!subjectId) return undefined;
    const keyId = this.#index.get(indexKey(tenant, subjectId, kind, period));
    const key = keyId ? this.#keys.get(`${tenant}/${keyId}`) : undefined;
    if (!keyId || !key) return undefined;
    if (this.#hot.size >= CACHE_MAX) this.#hot.clear();
    this.#hot.set(hot, { keyId, key });
    return { keyId, key };
  }

  // ── data keys ──────────────────────────────────────────────────────────────────────────────

  /** The data key for a subject, kind and month, made (and wrapped) on first use. */
  async keyFor(tenant: string, subjectId: string, kind: RetentionKind, period: string): Promise<{ keyId: string; key: Buffer }> {
    const name = indexKey(tenant, subjectId, kind, period);
    const known = this.#index.get(name);
    const cached = known ? this.#keys.get(`${tenant}/${known}`) : undefined;
    if (known && cached) return { keyId: known, key: cached };
    return this.#once(`i/${name}`, async () => {
      const existing = await this.#indexed(tenant, name);
      if (existing) return existing;
      const tk = await this.tenantKey(tenant, true);
      if (tk === 'destroyed') throw tenantDeleted(tenant);
      if (!tk) throw new StkError('STK_ERR_KEYSTORE_UNAVAILABLE', 'no tenant key', { tenant });
      const keyId = newId();
      const key = randomBytes(32);
      const record: DataKeyRecord = { v: 1, wrapped: wrap(tk, tenant, keyId, key), subject: subjectId, kind, period, createdAt: this.#now().toISOString() };
      try {
        // The key first, then the index entry that hands it out: a reader never finds an id without its key.
        await this.#data.create(dataKey(tenant, keyId), enc.encode(JSON.stringify(record)));
        await this.#data.create(name, enc.encode(keyId));
      } catch (err) {
        const other = await this.#indexed(tenant, name);
        if (other) {
          await this.#data.purge(dataKey(tenant, keyId)).catch(() => {});
          return other;
        }
        throw unavailable(err, 'cannot store a data key', { tenant });
      }
      this.#remember(tenant, keyId, key);
      this.#index.set(name, keyId);
      return { keyId, key };
    });
  }

  async #indexed(tenant: string, name: string): Promise<{ keyId: string; key: Buffer } | null> {
    const e = await this.#get(this.#data, name);
    if (e?.operation !== 'PUT') return null;
    const keyId = dec.decode(e.value);
    const key = await this.key(tenant, keyId);
    if (!key) return null;
    this.#index.set(name, keyId);
    return { keyId, key };
  }

  /** A cached data key, without a round trip: the key, null when known to be gone, undefined when not known here. */
  cachedKey(tenant: string, keyId: string): Buffer | null | undefined {
    const id = `${tenant}/${keyId}`;
    const k = this.#keys.get(id);
    if (k) return k;
    if (this.#gone.has(id) || this.#tenantKeys.get(tenant) === 'destroyed') return null;
    const until = this.#unknown.get(id);
    if (until !== undefined && until > Date.now()) return null;
    return undefined;
  }

  /** A data key by id; null once destroyed (or when it cannot exist: no tenant key). */
  async key(tenant: string, keyId: string): Promise<Buffer | null> {
    const cached = this.cachedKey(tenant, keyId);
    if (cached !== undefined) return cached;
    return this.#once(`k/${tenant}/${keyId}`, async () => {
      const tk = await this.tenantKey(tenant, false);
      if (!tk || tk === 'destroyed') return null;
      for (let attempt = 0; ; attempt++) {
        const e = await this.#get(this.#data, dataKey(tenant, keyId));
        if (e && e.operation !== 'PUT') {
          this.#forget(tenant, keyId);
          return null;
        }
        if (e) {
          const r = JSON.parse(dec.decode(e.value)) as DataKeyRecord;
          const key = unwrap(tk, tenant, keyId, r.wrapped);
          this.#remember(tenant, keyId, key);
          return key;
        }
        // Never written, or not yet visible on this replica: wait a little before calling it gone.
        const wait = MISSING_RETRY_MS[attempt];
        if (wait === undefined) {
          this.#unknown.set(`${tenant}/${keyId}`, Date.now() + UNKNOWN_TTL_MS);
          return null;
        }
        await new Promise((r) => setTimeout(r, wait));
      }
    });
  }

  /** The data keys filed under one subject (every kind and month). */
  async keysOfSubject(tenant: string, subjectId: string): Promise<DataKeyInfo[]> {
    return this.#list(tenant, `s.${tenant}.${subjectId}.>`);
  }

  /** The data keys of one kind (every subject and month) of a tenant. */
  async keysOfKind(tenant: string, kind: RetentionKind): Promise<DataKeyInfo[]> {
    return this.#list(tenant, `s.${tenant}.*.${kind}.*`);
  }

  async #list(tenant: string, filter: string): Promise<DataKeyInfo[]> {
    assertId('tenant', tenant, 'tenant');
    const names: string[] = [];
    try {
      for await (const k of await this.#data.keys(filter)) names.push(k);
    } catch (err) {
      throw unavailable(err, 'cannot list data keys', { tenant });
    }
    const out: DataKeyInfo[] = [];
    for (const name of names.sort()) {
      const e = await this.#get(this.#data, name);
      if (e?.operation !== 'PUT') continue;
      const [, , subject, kind, period] = name.split('.');
      out.push({ keyId: dec.decode(e.value), subject: subject!, kind: kind as RetentionKind, period: period! });
    }
    return out;
  }

  /**
   * Destroys data keys: their stored bytes erased, a purge marker left (every process drops its
   * copy), their index entries removed. Idempotent: a key already gone counts as destroyed.
   */
  async destroy(tenant: string, keyIds: readonly string[]): Promise<void> {
    assertId('tenant', tenant, 'tenant');
    for (const keyId of keyIds) {
      const name = dataKey(tenant, keyId);
      const e = await this.#get(this.#data, name);
      if (e && e.operation === 'PUT') {
        const r = JSON.parse(dec.decode(e.value)) as DataKeyRecord;
        await this.#erase(this.#data, DATA_KEYS_BUCKET, name, e.revision);
        const idx = indexKey(tenant, r.subject, r.kind, r.period);
        const ie = await this.#get(this.#data, idx);
        if (ie && ie.operation === 'PUT' && dec.decode(ie.value) === keyId) await this.#erase(this.#data, DATA_KEYS_BUCKET, idx, ie.revision);
        this.#index.delete(idx);
      }
      this.#forget(tenant, keyId);
    }
  }

  /**
   * Offboarding: every data key of the tenant destroyed, then the tenant key replaced by a
   * tombstone so no key is ever made for the tenant again; the tombstone keeps `keyIds` (what the
   * recorded destruction lists) for a restore to record again. Returns the data key ids it found.
   */
  async destroyTenant(tenant: string, keyIds?: readonly string[]): Promise<string[]> {
    assertId('tenant', tenant, 'tenant');
    const ids: string[] = [];
    try {
      for await (const k of await this.#data.keys(`k.${tenant}.*`)) ids.push(k.slice(`k.${tenant}.`.length));
    } catch (err) {
      throw unavailable(err, 'cannot list data keys', { tenant });
    }
    await this.destroy(tenant, ids);
    for await (const k of await this.#data.keys(`s.${tenant}.>`)) {
      const e = await this.#get(this.#data, k);
      if (e && e.operation === 'PUT') await this.#erase(this.#data, DATA_KEYS_BUCKET, k, e.revision);
    }
    const tombstone = enc.encode(JSON.stringify({ v: 1, destroyed: this.#now().toISOString(), keyIds: [...(keyIds ?? ids)].sort() } satisfies TenantKeyRecord));
    for (let attempt = 0; attempt < 5; attempt++) {
      const e = await this.#get(this.#tenants, tenant);
      if (e && e.operation === 'PUT' && e.string().includes('"destroyed"')) break;
      if (e && e.operation === 'PUT') await this.#streams.eraseMessage(kvStream(TENANT_KEYS_BUCKET), e.revision);
      try {
        // Create, not put: a writer that made a key in between makes this fail, and the loop erases that one too.
        await this.#tenants.create(tenant, tombstone);
        break;
      } catch {
        // a key appeared meanwhile; go round again
      }
    }
    this.#tenantKeys.set(tenant, 'destroyed');
    this.#namers.delete(tenant);
    this.#subjectIds.clear();
    this.#dropHot();
    this.onDestroyed(tenant, null);
    return ids;
  }

  // ── what a restore must honour ───────────────────────────────────────────────────────────

  /**
   * Keeps an erasure in the key store (before it is recorded in EVENTS, so no recorded erasure
   * lacks it). A retried erasure with the same id keeps the first record.
   */
  async recordErasure(tenant: string, r: Omit<ErasureRecord, 'tenant' | 'at' | 'reference'> & { reference?: string }): Promise<void> {
    assertId('tenant', tenant, 'tenant');
    assertId('token', r.erasureId, 'erasure id');
    const name = erasureKey(tenant, r.erasureId);
    if ((await this.#get(this.#data, name))?.operation === 'PUT') return;
    const tk = await this.tenantKey(tenant, false);
    if (tk === 'destroyed') throw tenantDeleted(tenant);
    if (r.reference !== undefined && !tk) throw new StkError('STK_ERR_KEYSTORE_UNAVAILABLE', 'no tenant key', { tenant });
    const entry: ErasureEntry = {
      v: 1,
      erasureId: r.erasureId,
      subject: r.subject,
      keyIds: [...r.keyIds],
      telemetryUpTo: r.telemetryUpTo,
      telemetryRemoved: r.telemetryRemoved,
      at: this.#now().toISOString(),
      ...(r.reference !== undefined && tk ? { reference: sealReference(tk, tenant, r.erasureId, r.reference) } : {}),
    };
    try {
      await this.#data.create(name, enc.encode(JSON.stringify(entry)));
    } catch (err) {
      // Written meanwhile by a retry of the same request: that record stands.
      if ((await this.#get(this.#data, name))?.operation !== 'PUT') throw unavailable(err, 'cannot keep the erasure', { tenant });
    }
  }

  /** Every erasure the key store keeps, of every tenant, oldest first. */
  async erasures(): Promise<ErasureRecord[]> {
    const out: ErasureRecord[] = [];
    for (const name of await this.#keysOf(this.#data, 'e.>')) {
      const e = await this.#get(this.#data, name);
      if (e?.operation !== 'PUT') continue;
      const [, tenant] = name.split('.');
      // A name a restore acts on (subjects, purges, appends): ids checked like any input.
      if (!isValidId('tenant', tenant)) continue;
      const r = JSON.parse(dec.decode(e.value)) as ErasureEntry;
      const tk = await this.tenantKey(tenant, false);
      const reference = r.reference && tk instanceof Buffer ? openReference(tk, tenant, r.erasureId, r.reference) : null;
      out.push({
        tenant,
        erasureId: r.erasureId,
        subject: r.subject,
        keyIds: r.keyIds,
        telemetryUpTo: r.telemetryUpTo,
        telemetryRemoved: r.telemetryRemoved,
        at: r.at,
        reference,
      });
    }
    return out.sort((a, b) => a.at.localeCompare(b.at) || a.erasureId.localeCompare(b.erasureId));
  }

  /** Every tenant whose key is a tombstone (offboarded), with what the tombstone keeps. */
  async offboardings(): Promise<OffboardingRecord[]> {
    const out: OffboardingRecord[] = [];
    for (const tenant of await this.#keysOf(this.#tenants, '>')) {
      if (!isValidId('tenant', tenant)) continue;
      const e = await this.#get(this.#tenants, tenant);
      if (e?.operation !== 'PUT') continue;
      const r = JSON.parse(dec.decode(e.value)) as TenantKeyRecord;
      if ('destroyed' in r) out.push({ tenant, at: r.destroyed, keyIds: r.keyIds ?? [] });
    }
    return out.sort((a, b) => a.at.localeCompare(b.at) || a.tenant.localeCompare(b.tenant));
  }

  async #keysOf(bucket: Bucket, filter: string): Promise<string[]> {
    const names: string[] = [];
    try {
      for await (const k of await bucket.keys(filter)) names.push(k);
    } catch (err) {
      throw unavailable(err, 'cannot list the key store', { filter });
    }
    return names.sort();
  }

  async #erase(bucket: Bucket, bucketName: string, key: string, revision: number): Promise<void> {
    await this.#streams.eraseMessage(kvStream(bucketName), revision);
    try {
      await bucket.purge(key);
    } catch (err) {
      throw unavailable(err, 'cannot purge a key', { key });
    }
  }

  #remember(tenant: string, keyId: string, key: Buffer): void {
    if (this.#keys.size >= CACHE_MAX) this.#keys.clear();
    if (this.#index.size >= CACHE_MAX) this.#index.clear();
    this.#keys.set(`${tenant}/${keyId}`, key);
  }

  /** Moves on whenever a key `cachedKeyFor` handed out may no longer be the one to seal with: what callers cached from it goes too. */
  get generation(): number {
    return this.#generation;
  }

  #dropHot(): void {
    this.#hot.clear();
    this.#generation++;
  }

  #forget(tenant: string, keyId: string): void {
    const id = `${tenant}/${keyId}`;
    this.#keys.delete(id);
    this.#dropHot();
    if (this.#gone.size >= CACHE_MAX) this.#gone.clear();
    this.#gone.add(id);
    this.onDestroyed(tenant, keyId);
  }

  async #get(bucket: Bucket, key: string) {
    try {
      return await bucket.get(key);
    } catch (err) {
      throw unavailable(err, 'cannot read the key store', { key });
    }
  }

  /** Runs `fn` once for concurrent callers with the same `id`. */
  #once<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const running = this.#inflight.get(id) as Promise<T> | undefined;
    if (running) return running;
    const p = fn().finally(() => this.#inflight.delete(id));
    this.#inflight.set(id, p);
    return p;
  }
}

const dataKey = (tenant: string, keyId: string): string => `k.${tenant}.${keyId}`;
const indexKey = (tenant: string, subjectId: string, kind: RetentionKind, period: string): string => `s.${tenant}.${subjectId}.${kind}.${period}`;
const wrapAad = (tenant: string, keyId: string): Buffer => Buffer.from(`stockade data key v1\0${tenant}\0${keyId}`);
const erasureKey = (tenant: string, erasureId: string): string => `e.${tenant}.${erasureId}`;
const referenceKey = (tk: Buffer): Buffer => Buffer.from(hkdfSync('sha256', tk, Buffer.alloc(0), 'stockade erasure references v1', 32));
const referenceAad = (tenant: string, erasureId: string): Buffer => Buffer.from(`stockade erasure reference v1\0${tenant}\0${erasureId}`);

function sealReference(tk: Buffer, tenant: string, erasureId: string, reference: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', referenceKey(tk), iv);
  c.setAAD(referenceAad(tenant, erasureId));
  return Buffer.concat([iv, c.update(reference, 'utf8'), c.final(), c.getAuthTag()]).toString('base64url');
}

function openReference(tk: Buffer, tenant: string, erasureId: string, sealed: string): string | null {
  const b = Buffer.from(sealed, 'base64url');
  try {
    const d = createDecipheriv('aes-256-gcm', referenceKey(tk), b.subarray(0, 12));
    d.setAAD(referenceAad(tenant, erasureId));
    d.setAuthTag(b.subarray(b.length - 16));
    return Buffer.concat([d.update(b.subarray(12, b.length - 16)), d.final()]).toString('utf8');
  } catch {
    return null;
  }
}

function wrap(tk: Buffer, tenant: string, keyId: string, key: Buffer): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', tk, iv);
  c.setAAD(wrapAad(tenant, keyId));
  return Buffer.concat([iv, c.update(key), c.final(), c.getAuthTag()]).toString('base64url');
}

function unwrap(tk: Buffer, tenant: string, keyId: string, wrapped: string): Buffer {
  const b = Buffer.from(wrapped, 'base64url');
  try {
    const d = createDecipheriv('aes-256-gcm', tk, b.subarray(0, 12));
    d.setAAD(wrapAad(tenant, keyId));
    d.setAuthTag(b.subarray(b.length - 16));
    return Buffer.concat([d.update(b.subarray(12, b.length - 16)), d.final()]);
  } catch (err) {
    throw new StkError('STK_ERR_KEYSTORE_UNAVAILABLE', 'a data key does not open with its tenant key', { tenant, keyId }, { cause: err });
  }
}

/** The error a write for an offboarded tenant gets. */
export function tenantDeleted(tenant: string): StkError {
  return new StkError('STK_ERR_TENANT_DELETED', 'the tenant was offboarded; nothing personal can be written for it', { tenant });
}

function unavailable(err: unknown, what: string, data: Record<string, unknown> = {}): StkError {
  if (err instanceof StkError) return err;
  return new StkError('STK_ERR_KEYSTORE_UNAVAILABLE', `${what}: ${(err as Error)?.message ?? err}`, data, { cause: err });
}
