import { assertId } from '../ids.ts';
import { EVENTS_STREAM, tenantFilter, type Streams } from '../log/mod.ts';
import { CHECKPOINT_SUBJECT, GENESIS_HEAD, LEDGER_STREAM, ledgerSubject, parseBlock, type Checkpoint } from './format.ts';
import { ledgerUnavailable } from './stream.ts';

/** A tenant chain as the API shows it to the tenant's operators and auditors. */
export interface LedgerStatus {
  tenant: string;
  height: number;
  head: string;
  blocks: number;
  keyId: string | null;
  sealedAt: string | null;
  lastCheckpoint: { at: string; keyId: string; height: number; head: string } | null;
  /** Records stored after the chain's last entry, and the age of the oldest of them. */
  lag: { events: number; seconds: number };
}

/**
 * Reads a tenant's ledger status from LEDGER and EVENTS, so any role (API without a sealer in
 * the process, or an auditor tool) can answer it. Tenant first, as every tenant read.
 */
export async function ledgerStatus(tenant: string, o: { streams: Streams; now?: () => Date }): Promise<LedgerStatus> {
  assertId('tenant', tenant, 'tenant');
  const [m, cpm] = await Promise.all([o.streams.last(LEDGER_STREAM, ledgerSubject(tenant)), o.streams.last(LEDGER_STREAM, CHECKPOINT_SUBJECT)]);
  const b = m ? parseBlock(m.data, { tenant, ledgerSeq: m.seq }) : null;
  let lastCheckpoint: LedgerStatus['lastCheckpoint'] = null;
  if (cpm) {
    const c = JSON.parse(new TextDecoder().decode(cpm.data)) as Checkpoint;
    const h = c.heads?.find((x) => x.tenant === tenant);
    if (h) lastCheckpoint = { at: c.at, keyId: c.keyId, height: h.height, head: h.head };
  }
  const lag = await unsealed(o.streams, tenant, b?.lastSeq ?? 0, (o.now?.() ?? new Date()).getTime());
  return {
    tenant,
    height: b?.lastHeight ?? 0,
    head: b?.head ?? GENESIS_HEAD,
    blocks: b?.index ?? 0,
    keyId: b?.keyId ?? null,
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
