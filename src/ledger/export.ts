import { mkdir, open, readdir, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { StkError } from '../errors.ts';
import { assertId } from '../ids.ts';
import { EVENTS_STREAM, tenantFilter, type Streams } from '../log/mod.ts';
import type { Break } from './chaincheck.ts';
import { parseTenantCheckpoint } from './checkpoint.ts';
import {
  GENESIS_HEAD,
  LEDGER_SCAN_BATCH,
  LEDGER_STREAM,
  VERSION_HEADER,
  blockSignedText,
  checkpointSubject,
  entryHash,
  eventHash,
  eventPreimagePrefix,
  keyRecordSignedText,
  ledgerSubject,
  parseBlock,
  type BlockEntry,
} from './format.ts';
import { readKeyRecords } from './keyrecords.ts';
import { verifyLedger } from './verify.ts';

/** `manifest.json` of an export (docs/ledger-format.md, "Export"): for people; the script trusts none of it. */
export interface ExportManifest {
  format: 2;
  tenant: string;
  /** ISO time (`toISOString`) the export was written. */
  exportedAt: string;
  /** Event files written: one per entry whose record EVENTS still holds unchanged. */
  entries: number;
  /** Chain height: entries the blocks list. */
  height: number;
  blocks: number;
  head: string;
  /** Tree root at `height` (64 hex; the root of the empty tree for height 0). */
  root: string;
  /** Key records exported (the trusted run). */
  keys: number;
  /** Messages on ledger-keys outside the trusted run, not exported. */
  untrustedKeys: number;
  /** The checkpoint exported: the tenant's newest in LEDGER. */
  checkpoint: { size: number; rootHash: string; origin: string } | null;
  /** Records stored after the chain's end, not exported. */
  unsealed: number;
  /** Heights whose record EVENTS no longer holds unchanged: their event files are missing. */
  missing: number[];
  /** verify's verdict on the tenant when exported. */
  ok: boolean;
  break: Break | null;
}

const pad = (n: number, width = 10): string => String(n).padStart(width, '0');

/**
 * Writes a tenant's ledger as files (docs/ledger-format.md, "Export"): each sealed record's
 * preimage by height, each block's signed text, raw signature and stored JSON, the chain as a
 * list (every field of which the documented script checks), the key records, the tenant's newest
 * checkpoint, and a manifest with verify's verdict. A break is written into the manifest, and
 * the export then rejects with STK_ERR_LEDGER_BROKEN after writing everything it could (unless
 * `failOnBreak: false`: a customer's export carries its chain as it is, the break in the manifest).
 */
export async function exportLedger(o: { streams: Streams; tenant: string; out: string; now?: () => Date; failOnBreak?: boolean }): Promise<ExportManifest> {
  assertId('tenant', o.tenant, 'tenant');
  const { tenant, out, streams } = o;
  const existing = await readdir(out).catch(() => [] as string[]);
  if (existing.length) throw new StkError('STK_ERR_CONFIG', `export folder ${out} is not empty`, { out });
  for (const d of ['events', 'blocks', 'keys']) await mkdir(join(out, d), { recursive: true });

  const verdict = await verifyLedger({ streams, tenants: [tenant] });
  const t = verdict.tenants[0]!;

  // Blocks in LEDGER order; the chain list from their entries, heads recomputed.
  const entries: BlockEntry[] = [];
  const chain = await open(join(out, 'chain.txt'), 'wx');
  let index = 0;
  let head = GENESIS_HEAD;
  try {
    const lines = new Lines(chain);
    for await (const m of streams.scan(LEDGER_STREAM, { filter: ledgerSubject(tenant), batch: LEDGER_SCAN_BATCH })) {
      const b = parseBlock(m.data, { tenant, ledgerSeq: m.seq });
      index++;
      const name = join(out, 'blocks', pad(index));
      await writeFile(`${name}.json`, m.data);
      await writeFile(`${name}.msg`, blockSignedText(b));
      await writeFile(`${name}.sig`, Buffer.from(b.sig, 'base64'));
      for (const [k, e] of b.entries.entries()) {
        const height = b.firstHeight + k;
        head = entryHash(tenant, height, head, e[2]);
        entries.push(e);
        await lines.add(`${height} ${e[0]} ${e[1]} ${e[2]} ${head}\n`);
      }
    }
    await lines.flush();
  } finally {
    await chain.close();
  }

  // Records in the tenant's order, matched to the entries by hash (as verify does): a record
  // restored under new sequences still finds its entry.
  const byHash = new Map<string, number[]>();
  entries.forEach((e, k) => {
    const at = byHash.get(e[2]);
    if (at) at.push(k);
    else byHash.set(e[2], [k]);
  });
  let i = 0;
  let written = 0;
  let unsealed = 0;
  const missing: number[] = [];
  for await (const m of streams.scan(EVENTS_STREAM, { filter: tenantFilter(tenant) })) {
    const version = m.headers?.get(VERSION_HEADER) ?? '';
    const j = byHash.get(eventHash(m.subject, version, m.data))?.find((k) => k >= i);
    if (j === undefined) {
      // Not an entry's record (or one already exported): unsealed after the chain's end; inserted or edited before it, which the manifest's break names.
      if (i >= entries.length) unsealed++;
      continue;
    }
    // Entries skipped over lost their records (removed, or edited into what is skipped above).
    while (i < j) missing.push(++i);
    i++;
    await writeFile(join(out, 'events', `${pad(i)}.evt`), Buffer.concat([eventPreimagePrefix(m.subject, version), m.data]));
    written++;
  }
  while (i < entries.length) missing.push(++i);

  // The trusted run of key records only, numbered in LEDGER order; each public key beside its record.
  let keys = 0;
  let untrustedKeys = 0;
  for (const { record: r, trusted } of await readKeyRecords(streams)) {
    if (!trusted) {
      untrustedKeys++;
      continue;
    }
    keys++;
    const name = join(out, 'keys', pad(keys, 4));
    await writeFile(`${name}.msg`, keyRecordSignedText(r));
    await writeFile(`${name}.sig`, Buffer.from(r.sig, 'base64'));
    await writeFile(`${name}.pem`, r.publicKey);
  }

  let checkpoint: ExportManifest['checkpoint'] = null;
  const cpm = await streams.last(LEDGER_STREAM, checkpointSubject(tenant));
  const cp = cpm ? parseTenantCheckpoint(new TextDecoder().decode(cpm.data)) : null;
  if (cp && cp.tenant === tenant) {
    await writeFile(join(out, 'checkpoint.note'), cp.note);
    checkpoint = { size: cp.size, rootHash: cp.rootHash, origin: cp.origin };
  }

  const manifest: ExportManifest = {
    format: 2,
    tenant,
    exportedAt: (o.now?.() ?? new Date()).toISOString(),
    entries: written,
    height: entries.length,
    blocks: index,
    head,
    root: t.root,
    keys,
    untrustedKeys,
    checkpoint,
    unsealed,
    missing,
    ok: t.ok,
    break: t.break ?? null,
  };
  await writeFile(join(out, 'tenant'), `${tenant}\n`);
  await writeFile(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  if (!t.ok) {
    throw new StkError(
      'STK_ERR_LEDGER_BROKEN',
      `the ledger of ${tenant} is broken: ${t.break!.kind}: ${t.break!.message} (written into ${join(out, 'manifest.json')})`,
      {
        tenant,
        kind: t.break!.kind,
        out,
      },
    );
  }
  return manifest;
}

/** Buffered line writes: one write per many lines. */
class Lines {
  readonly #fh: FileHandle;
  #buf: string[] = [];
  #len = 0;

  constructor(fh: FileHandle) {
    this.#fh = fh;
  }

  async add(line: string): Promise<void> {
    this.#buf.push(line);
    this.#len += line.length;
    if (this.#len >= 1 << 20) await this.flush();
  }

  async flush(): Promise<void> {
    if (!this.#buf.length) return;
    await this.#fh.write(this.#buf.join(''));
    this.#buf = [];
    this.#len = 0;
  }
}
