import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { once } from 'node:events';
import { RETENTION_KINDS } from '../domain/personal.ts';
import type { EventEnvelope } from '../domain/events.ts';
import { StkError } from '../errors.ts';
import { assertId } from '../ids.ts';
import { exportLedger, type ExportManifest } from '../ledger/export.ts';
import { EVIDENCE_HEADERS, type EvidenceStore } from '../evidence/store.ts';
import { decodeRecordBody, tenantFilter, type EventLog } from '../log/mod.ts';
import { FieldCipher, type FieldKeys } from '../privacy/cipher.ts';
import type { KeyStore } from '../privacy/keystore.ts';
import { telemetryBatchId, telemetryItemId } from '../telemetry/ids.ts';
import { BATCH_HEADER, INDEX_HEADER, parseTelemetrySubject, TELEMETRY_STREAM, telemetryTenantFilter } from '../telemetry/stream.ts';

/**
 * A part of the export that another module owns: the evidence store writes the evidence bytes,
 * the proof service the inclusion proofs. Each writes its files under `out` (in a folder of its
 * own) and says how many items it wrote, by name, for the manifest; `SHA256SUMS` covers them.
 */
export type ExportPart = (o: { log: EventLog; tenant: string; out: string }) => Promise<Record<string, number>>;

/** The export's parts from other modules (empty until they register: inclusion proofs). */
export const EXPORT_PARTS: ExportPart[] = [];

/**
 * The tenant's evidence bytes in the clear, one file per evidence id under `evidence/`, each
 * checked against its plaintext SHA-256. Evidence whose key is destroyed (an erased machine) is
 * left out and counted as `evidenceErased`.
 */
export function evidencePart(store: EvidenceStore): ExportPart {
  return async ({ tenant, out }) => {
    const objects = await store.list(tenant).catch(() => []);
    if (objects.length === 0) return { evidence: 0 };
    await mkdir(join(out, 'evidence'), { recursive: true });
    let written = 0;
    let erased = 0;
    for (const listed of objects) {
      // A listing carries no headers: the plaintext hash of an encrypted object is in them.
      const o = await store.info(tenant, listed.name);
      if (!o) continue;
      try {
        await writeFile(join(out, 'evidence', o.name), await store.read(tenant, o.name, o.headers[EVIDENCE_HEADERS.sha256] ?? o.sha256));
        written++;
      } catch (err) {
        if (!(err instanceof StkError && err.code === 'STK_ERR_EVIDENCE_ERASED')) throw err;
        erased++;
      }
    }
    return { evidence: written, ...(erased ? { evidenceErased: erased } : {}) };
  };
}

/** The manifest of a customer export (`manifest.json`); every file is also in `SHA256SUMS`. */
export interface TenantExportManifest {
  format: 1;
  tenant: string;
  exportedAt: string;
  events: number;
  readModelDocuments: number;
  telemetryItems: number;
  dataKeys: number;
  /** What the registered parts wrote (`EXPORT_PARTS`), by name. */
  parts: Record<string, number>;
  ledger: ExportManifest;
  files: Record<string, { sha256: string; bytes: number }>;
}

/** Files the export writes besides `ledger/`. */
export const EXPORT_FILES = {
  events: 'events.jsonl',
  keys: 'keys.jsonl',
  readModels: 'read-models.jsonl',
  telemetry: 'telemetry.jsonl',
  manifest: 'manifest.json',
  sums: 'SHA256SUMS',
  finalCheckpoint: 'final-checkpoint.json',
} as const;

/** A JSON-lines file written line by line (a tenant's events do not have to fit in memory). */
class Lines {
  readonly #out: ReturnType<typeof createWriteStream>;
  count = 0;
  constructor(path: string) {
    this.#out = createWriteStream(path);
  }
  async write(value: unknown): Promise<void> {
    this.count++;
    if (!this.#out.write(`${typeof value === 'string' ? value : JSON.stringify(value)}\n`)) await once(this.#out, 'drain');
  }
  async close(): Promise<void> {
    this.#out.end();
    await once(this.#out, 'finish');
  }
}

/**
 * Writes everything a customer takes with them when they leave, into an empty folder:
 * - `ledger/` — `stockade ledger export` (sealed records, blocks, keys, checkpoint), verifiable
 *   with the documented script and the ledger's public key alone;
 * - `events.jsonl` — every event with its personal fields readable (`position` added);
 * - `keys.jsonl` — the tenant's data keys, so the customer can check that each readable field is
 *   exactly what the sealed, signed record holds (`verifyExport` does);
 * - `read-models.jsonl` — every document of its read models, as the API gave them;
 * - `telemetry.jsonl` — its telemetry items still kept;
 * - `evidence/` — its evidence bytes (with `evidencePart`);
 * - `manifest.json` and `SHA256SUMS` (`sha256sum -c SHA256SUMS`) over every file.
 * Inclusion proofs join through their module's part (`EXPORT_PARTS`).
 */
export async function exportTenant(o: {
  log: EventLog;
  keys: KeyStore | null;
  tenant: string;
  out: string;
  /** The read models as JSON lines (`GET …/export/read-models`); skipped when null. */
  readModels: AsyncIterable<string> | Iterable<string> | null;
  /** Parts of this export besides `EXPORT_PARTS` (the evidence bytes: `evidencePart`). */
  parts?: readonly ExportPart[];
  now?: () => Date;
}): Promise<TenantExportManifest> {
  assertId('tenant', o.tenant, 'tenant');
  const { log, tenant, out } = o;
  await mkdir(out, { recursive: true });
  if ((await readdir(out)).length > 0) throw new StkError('STK_ERR_CONFIG', `export folder ${out} is not empty`, { out });
  // The customer gets the chain as it is: a break is in the ledger manifest, not a failed export.
  const ledger = await exportLedger({ streams: log.streams, tenant, out: join(out, 'ledger'), failOnBreak: false, ...(o.now ? { now: o.now } : {}) });

  const events = new Lines(join(out, EXPORT_FILES.events));
  await log.scanRecords({ filter: tenantFilter(tenant) }, async (raw) => {
    const r = await log.reveal(raw);
    for (const e of r.events) await events.write({ position: r.position, ...e });
  });
  await events.close();

  const keys = new Lines(join(out, EXPORT_FILES.keys));
  if (o.keys) {
    for (const kind of RETENTION_KINDS) {
      for (const k of await o.keys.keysOfKind(tenant, kind)) {
        const key = await o.keys.key(tenant, k.keyId);
        if (key) await keys.write({ keyId: k.keyId, kind: k.kind, period: k.period, key: key.toString('base64url') });
      }
    }
  }
  await keys.close();

  const docs = new Lines(join(out, EXPORT_FILES.readModels));
  if (o.readModels) for await (const line of o.readModels) if (line.trim()) await docs.write(line.trim());
  await docs.close();

  const telemetry = new Lines(join(out, EXPORT_FILES.telemetry));
  for await (const m of log.streams.scan(TELEMETRY_STREAM, { filter: telemetryTenantFilter(tenant) })) {
    // Named by batch and index, as the API names them: a TELEMETRY sequence is install-wide.
    const where = parseTelemetrySubject(m.subject);
    const batchId = m.headers?.get(BATCH_HEADER) ?? '';
    const index = m.headers?.get(INDEX_HEADER) ?? '';
    const itemId = where && batchId && /^\d+$/.test(index) ? telemetryItemId(telemetryBatchId(tenant, where.agentId, batchId), Number(index)) : null;
    await telemetry.write({ itemId, subject: m.subject, storedAt: m.time.toISOString(), item: JSON.parse(new TextDecoder().decode(m.data)) });
  }
  await telemetry.close();

  const parts: Record<string, number> = {};
  for (const part of [...EXPORT_PARTS, ...(o.parts ?? [])]) Object.assign(parts, await part({ log, tenant, out }));

  const ledgerSummary = ledger;
  const manifest: TenantExportManifest = {
    format: 1,
    tenant,
    exportedAt: (o.now?.() ?? new Date()).toISOString(),
    events: events.count,
    readModelDocuments: docs.count,
    telemetryItems: telemetry.count,
    dataKeys: keys.count,
    parts,
    ledger: ledgerSummary,
    files: {},
  };
  await writeSums(out, manifest);
  return manifest;
}

/** (Re)writes `manifest.json` with every file's digest, and `SHA256SUMS` in `sha256sum` format. */
export async function writeSums(out: string, manifest: TenantExportManifest): Promise<void> {
  const files: TenantExportManifest['files'] = {};
  for (const path of await filesUnder(out)) {
    const name = relative(out, path);
    if (name === EXPORT_FILES.manifest || name === EXPORT_FILES.sums) continue;
    const bytes = await readFile(path);
    files[name] = { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
  }
  manifest.files = files;
  await writeFile(join(out, EXPORT_FILES.manifest), `${JSON.stringify(manifest, null, 2)}\n`);
  const lines = Object.entries(files).map(([name, f]) => `${f.sha256}  ${name}\n`);
  const m = await readFile(join(out, EXPORT_FILES.manifest));
  lines.push(`${createHash('sha256').update(m).digest('hex')}  ${EXPORT_FILES.manifest}\n`);
  await writeFile(join(out, EXPORT_FILES.sums), lines.join(''));
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const p = join(dir, name);
    if ((await stat(p)).isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out;
}

/** Keys read from an export's `keys.jsonl`: enough to open its sealed records, nothing to make new ones. */
class ExportedKeys implements FieldKeys {
  readonly #keys = new Map<string, Buffer>();
  onDestroyed: FieldKeys['onDestroyed'] = () => {};
  constructor(lines: Array<{ keyId: string; key: string }>) {
    for (const l of lines) this.#keys.set(l.keyId, Buffer.from(l.key, 'base64url'));
  }
  cachedKey(_tenant: string, keyId: string): Buffer | null {
    return this.#keys.get(keyId) ?? null;
  }
  async key(tenant: string, keyId: string): Promise<Buffer | null> {
    return this.cachedKey(tenant, keyId);
  }
  subjectId(): Promise<string> {
    throw new StkError('STK_ERR_INTERNAL', 'an export can only be read');
  }
  keyFor(): Promise<{ keyId: string; key: Buffer }> {
    throw new StkError('STK_ERR_INTERNAL', 'an export can only be read');
  }
}

/** What `verifyExport` found; `problems` is empty for a sound export. */
export interface ExportCheck {
  files: number;
  events: number;
  /** Events whose readable fields were checked against the sealed record in `ledger/events`. */
  opened: number;
  problems: string[];
}

/**
 * Checks an export as its customer would: every file against `SHA256SUMS`, and every event of
 * `events.jsonl` against the sealed record the ledger export holds for it (same envelope; sealed
 * fields open with `keys.jsonl` to exactly the readable values). The ledger's own signatures are
 * checked by the documented script (docs/ledger-format.md).
 */
export async function verifyExport(dir: string): Promise<ExportCheck> {
  const problems: string[] = [];
  const sums = (await readFile(join(dir, EXPORT_FILES.sums), 'utf8')).split('\n').filter(Boolean);
  for (const line of sums) {
    const [digest, name] = [line.slice(0, 64), line.slice(66)];
    const actual = createHash('sha256')
      .update(await readFile(join(dir, name)).catch(() => Buffer.alloc(0)))
      .digest('hex');
    if (actual !== digest) problems.push(`${name}: SHA-256 does not match SHA256SUMS`);
  }
  const jsonl = async <T>(name: string): Promise<T[]> =>
    (await readFile(join(dir, name), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as T);
  const cipher = new FieldCipher(new ExportedKeys(await jsonl<{ keyId: string; key: string }>(EXPORT_FILES.keys)));
  // Sealed records by event id, from the ledger export's preimages (prefix, then the stored body).
  const sealed = new Map<string, EventEnvelope>();
  const evDir = join(dir, 'ledger', 'events');
  for (const name of (await readdir(evDir).catch(() => [] as string[])).sort()) {
    const bytes = await readFile(join(evDir, name));
    const body = bytes.subarray(bytes.indexOf('{"format"'));
    for (const e of decodeRecordBody(body, { file: name })) sealed.set(e.id, e);
  }
  const events = await jsonl<EventEnvelope & { position: number }>(EXPORT_FILES.events);
  let opened = 0;
  for (const { position: _p, ...readable } of events) {
    const stored = sealed.get(readable.id);
    if (!stored) continue; // not sealed into the chain yet: the ledger script reports unsealed records
    const [open] = await cipher.reveal([stored]);
    if (JSON.stringify(open) !== JSON.stringify(readable)) problems.push(`event ${readable.id}: the readable copy differs from the sealed record`);
    else if (stored.sealed) opened++;
  }
  return { files: sums.length, events: events.length, opened, problems };
}
