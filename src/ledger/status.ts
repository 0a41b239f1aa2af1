import { assertId } from '../ids.ts';
import { EVENTS_STREAM, tenantFilter, type Streams } from '../log/mod.ts';
import { parseNote } from '../transparency/mod.ts';
import { parseTenantCheckpoint } from './checkpoint.ts';
import { GENESIS_HEAD, LEDGER_STREAM, checkpointSubject, ledgerSubject, parseBlock } from './format.ts';
import { ledgerUnavailable } from './stream.ts';

/** A tenant chain as the API shows it to the tenant's operators and auditors. */
export interface LedgerStatus {
  tenant: string;
  height: number;
  head: string;
  blocks: number;
  keyId: string | null;
  sealedAt: string | null;
  /** Root of the tenant's Merkle tree at `height` (format-2 blocks; null before the first). */
  rootHash: string | null;
  /** The tenant's newest checkpoint: when it was stored, its tree size and root, its signature lines (the log's and each witness's). */
  lastCheckpoint: { at: string; height: number; rootHash: string; origin: string; signatures: number; note: string } | null;
  /** Records stored after the chain's last entry, and the age of the oldest of them. */
  lag: { events: number; seconds: number };
}

/**
 * Reads a tenant's ledger status from LEDGER and EVENTS, so any role (API without a sealer in
 * the process, or an auditor tool) can answer it. Tenant first, as every tenant read.
 */
export async function ledgerStatus(tenant: string, o: { streams: Streams; now?: () => Date }): Promise<LedgerStatus> {
  assertId('tenant', tenant, 'tenant');
  const [m, cpm] = await Promise.all([o.streams.last(LEDGER_STREAM, ledgerSubject(tenant)), o.streams.last(LEDGER_STREAM, checkpointSubject(tenant))]);
  const b = m ? parseBlock(m.data, { tenant, ledgerSeq: m.seq }) : null;
  let lastCheckpoint: LedgerStatus['lastCheckpoint'] = null;
  const cp = cpm ? parseTenantCheckpoint(new TextDecoder().decode(cpm.data)) : null;
  if (cpm && cp?.tenant === tenant) {
    const parsed = parseNote(cp.note);
    lastCheckpoint = {
      at: cpm.time.toISOString(),
      height: cp.size,
      rootHash: cp.rootHash,
      origin: cp.origin,
      signatures: parsed.ok ? parsed.note.signatures.length : 0,
      note: cp.note,
    };
  }
  const lag = await unsealed(o.streams, tenant, b?.lastSeq ?? 0, (o.now?.() ?? new Date()).getTime());
  return {
    tenant,
    height: b?.lastHeight ?? 0,
    head: b?.head ?? GENESIS_HEAD,
    blocks: b?.index ?? 0,
    keyId: b?.keyId ?? null,
    rootHash: b?.root ?? null,
    sealedAt: b?.sealedAt ?? null,
    lastCheckpoint,
    lag,
  };
}

async function unsealed(streams: Streams, tenant: string, lastSeq: number, now: number): Promise<{ events: number; seconds: number }> {
  try {
    const { messages, first } = await streams.countFrom(EVENTS_STREAM, tenantFilter(tenant), lastSeq + 1);
    return { events: messages, seconds: first ? Math.max(0, (now - first.time.getTime()) / 1000) : 0 };
  } catch (err) {
    throw ledgerUnavailable(err, `cannot read the unsealed records of ${tenant}`);
  }
}
