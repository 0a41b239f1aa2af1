import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { assertId } from '../ids.ts';
import { EVENTS_STREAM, tenantFilter } from '../log/mod.ts';
import { CHECKPOINT_SUBJECT, GENESIS_HEAD, LEDGER_STREAM, ledgerSubject, parseBlock, type Checkpoint } from './format.ts';
import { lastOnSubject, ledgerUnavailable } from './stream.ts';

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
export async function ledgerStatus(tenant: string, o: { nc: NatsConnection; jsm?: JetStreamManager; now?: () => Date }): Promise<LedgerStatus> {
  assertId('tenant', tenant, 'tenant');
  const jsm = o.jsm ?? (await jetstreamManager(o.nc));
  const [m, cpm] = await Promise.all([lastOnSubject(jsm, LEDGER_STREAM, ledgerSubject(tenant)), lastOnSubject(jsm, LEDGER_STREAM, CHECKPOINT_SUBJECT)]);
  const b = m ? parseBlock(m.data, { tenant, ledgerSeq: m.seq }) : null;
  let lastCheckpoint: LedgerStatus['lastCheckpoint'] = null;
  if (cpm) {
    const c = JSON.parse(new TextDecoder().decode(cpm.data)) as Checkpoint;
    const h = c.heads?.find((x) => x.tenant === tenant);
    if (h) lastCheckpoint = { at: c.at, keyId: c.keyId, height: h.height, head: h.head };
  }
  const lag = await unsealed(o.nc, jsm, tenant, b?.lastSeq ?? 0, (o.now?.() ?? new Date()).getTime());
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

async function unsealed(nc: NatsConnection, jsm: JetStreamManager, tenant: string, lastSeq: number, now: number): Promise<{ events: number; seconds: number }> {
  try {
    // An ack-less consumer's pending count is the server counting the records for us.
    const ci = await jsm.consumers.add(EVENTS_STREAM, {
      ack_policy: AckPolicy.None,
      filter_subject: tenantFilter(tenant),
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: lastSeq + 1,
      mem_storage: true,
      inactive_threshold: 5_000_000_000,
    });
    try {
      if (ci.num_pending === 0) return { events: 0, seconds: 0 };
      const first = await (await jetstream(nc).consumers.get(EVENTS_STREAM, ci.name)).next({ expires: 2000 });
      return { events: ci.num_pending, seconds: first ? Math.max(0, (now - first.time.getTime()) / 1000) : 0 };
    } finally {
      await jsm.consumers.delete(EVENTS_STREAM, ci.name).catch(() => {});
    }
  } catch (err) {
    throw ledgerUnavailable(err, `cannot read the unsealed records of ${tenant}`);
  }
}
