import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StkError } from '../errors.ts';
import { assertId } from '../ids.ts';
import { EVENTS_STREAM, tenantFilter, type Streams } from '../log/mod.ts';
import {
  CHECKPOINT_SUBJECT,
  GENESIS_HEAD,
  LEDGER_STREAM,
  VERSION_HEADER,
  blockSignedText,
  checkpointSignedText,
  eventPreimagePrefix,
  keyRecordSignedText,
  ledgerSubject,
  parseBlock,
  parseJson,
  type Block,
  type Checkpoint,
} from './format.ts';
import { readKeyRecords } from './keyrecords.ts';

export interface ExportSummary {
  tenant: string;
  out: string;
  /** Entries exported: one file per sealed event record. */
  entries: number;
  blocks: number;
  height: number;
  head: string;
  keys: number;
  /** Messages on ledger-keys outside the trusted run, not exported. */
  untrustedKeys: number;
  checkpoint: string | null;
  /** Records stored after the chain's end, not exported. */
  unsealed: number;
}

const pad = (n: number, width = 10): string => String(n).padStart(width, '0');

/**
 * Writes a tenant's ledger as files (docs/ledger-format.md, "Export"): each sealed record's
 * preimage by height, each block's signed text and raw signature, the key records, the latest
 * checkpoint. The export copies, it does not judge: a record missing from EVENTS is missing from
 * the export too, and the documented script then fails on it.
 */
export async function exportLedger(o: { streams: Streams; tenant: string; out: string; now?: () => Date }): Promise<ExportSummary> {
  assertId('tenant', o.tenant, 'tenant');
  const { tenant, out } = o;
  const existing = await readdir(out).catch(() => [] as string[]);
  if (existing.length) throw new StkError('STK_ERR_CONFIG', `export folder ${out} is not empty`, { out });
  for (const d of ['events', 'blocks', 'keys']) await mkdir(join(out, d), { recursive: true });
  const { streams } = o;

  const blocks: Block[] = [];
  let index = 0;
  for await (const m of streams.scan(LEDGER_STREAM, { filter: ledgerSubject(tenant) })) {
    index++;
    const b = parseBlock(m.data, { tenant, ledgerSeq: m.seq });
    blocks.push(b);
    const name = join(out, 'blocks', pad(index));
    await writeFile(`${name}.json`, m.data);
    await writeFile(`${name}.msg`, blockSignedText(b));
    await writeFile(`${name}.sig`, Buffer.from(b.sig, 'base64'));
  }
  // Heights are the order of the blocks as stored; each entry names the record it seals.
  const bySeq = new Map<number, number>();
  for (const b of blocks) for (const [i, e] of b.entries.entries()) bySeq.set(e[0], b.firstHeight + i);
  let entries = 0;
  let unsealed = 0;
  const lastSealed = blocks.length ? blocks[blocks.length - 1]!.lastSeq : 0;
  for await (const m of streams.scan(EVENTS_STREAM, { filter: tenantFilter(tenant) })) {
    const height = bySeq.get(m.seq);
    if (height === undefined) {
      if (m.seq > lastSealed) unsealed++;
      continue;
    }
    const prefix = eventPreimagePrefix(m.subject, m.headers?.get(VERSION_HEADER) ?? '');
    await writeFile(join(out, 'events', `${pad(height)}.evt`), Buffer.concat([prefix, m.data]));
    entries++;
  }

  // The trusted run of key records only (readKeyRecords): a stray message on ledger-keys is not a
  // key, and the script re-checks every endorsement of the ones exported anyway.
  let keys = 0;
  let untrustedKeys = 0;
  for (const { record: r, trusted } of await readKeyRecords(streams)) {
    if (!trusted) {
      untrustedKeys++;
      continue;
    }
    keys++;
    await writeFile(join(out, 'keys', `${pad(keys, 4)}.msg`), keyRecordSignedText(r));
    await writeFile(join(out, 'keys', `${pad(keys, 4)}.sig`), Buffer.from(r.sig, 'base64'));
    await writeFile(join(out, 'keys', `${r.keyId}.pem`), r.publicKey);
  }

  let checkpoint: string | null = null;
  const cpm = await streams.last(LEDGER_STREAM, CHECKPOINT_SUBJECT);
  if (cpm) {
    const c = parseJson<Checkpoint>(cpm.data, 'checkpoint', { ledgerSeq: cpm.seq });
    await writeFile(join(out, 'checkpoint.json'), cpm.data);
    await writeFile(join(out, 'checkpoint.msg'), checkpointSignedText(c));
    await writeFile(join(out, 'checkpoint.sig'), Buffer.from(c.sig, 'base64'));
    checkpoint = c.at;
  }

  const last = blocks[blocks.length - 1];
  const summary: ExportSummary = {
    tenant,
    out,
    entries,
    blocks: blocks.length,
    height: last?.lastHeight ?? 0,
    head: last?.head ?? GENESIS_HEAD,
    keys,
    untrustedKeys,
    checkpoint,
    unsealed,
  };
  await writeFile(join(out, 'tenant'), `${tenant}\n`);
  await writeFile(
    join(out, 'manifest.json'),
    `${JSON.stringify({ format: 1, exportedAt: (o.now?.() ?? new Date()).toISOString(), ...summary, out: undefined }, null, 2)}\n`,
  );
  return summary;
}
