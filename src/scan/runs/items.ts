import { StkError } from '../../errors.ts';
import { type EventLog, unavailable } from '../../log/mod.ts';
import { leafHash } from '../../merkle/mod.ts';
import type { ScanItem } from '../items.ts';
import { itemBytes } from '../items.ts';
import { itemIndexOf, itemMsgId, runSubject, SCANS_STREAM } from './stream.ts';

/** Most bytes one item may take as canonical JSON (a TLS port with every weak suite is a few KiB). */
export const SCAN_ITEM_MAX_BYTES = 64 * 1024;
/** Most items one run may hold (the scan engine's default bound on address × port pairs). */
export const RUN_MAX_ITEMS = 262_144;

/** Acknowledgements in flight while a part's items are published. */
const PUBLISH_WINDOW = 256;

/**
 * Stores items `offset…offset+n-1` of a run in SCANS, in order, each under its msg-id, and returns
 * the sequences they were stored at (for a resend within the duplicate window, the first copies').
 * Nothing is sealed here: a failure leaves the run unsealed and the sender resends the same part.
 */
export async function storeRunItems(
  log: EventLog,
  tenant: string,
  runId: string,
  offset: number,
  items: readonly ScanItem[],
): Promise<{ firstSeq: number; lastSeq: number; count: number }> {
  const subject = runSubject(tenant, runId);
  const bytes = items.map((item, i) => {
    const b = itemBytes(item);
    if (b.length > SCAN_ITEM_MAX_BYTES)
      throw new StkError('STK_ERR_VALIDATION', `item ${offset + i} is larger than ${SCAN_ITEM_MAX_BYTES} bytes as canonical JSON`, {
        field: `items/${i}`,
        limit: SCAN_ITEM_MAX_BYTES,
      });
    return b;
  });
  if (offset + bytes.length > RUN_MAX_ITEMS)
    throw new StkError('STK_ERR_VALIDATION', `a run holds at most ${RUN_MAX_ITEMS} items`, { field: 'offset', limit: RUN_MAX_ITEMS });
  let firstSeq = Number.POSITIVE_INFINITY;
  let lastSeq = 0;
  async function* messages() {
    for (const [i, data] of bytes.entries()) {
      const index = offset + i;
      yield { subject, data, msgId: itemMsgId(tenant, runId, index) };
    }
  }
  try {
    await log.streams.publishAll(messages(), {
      window: PUBLISH_WINDOW,
      timeoutMs: 10_000,
      onAck: (ack) => {
        firstSeq = Math.min(firstSeq, ack.seq);
        lastSeq = Math.max(lastSeq, ack.seq);
      },
    });
  } catch (err) {
    throw unavailable(err, 'cannot store scan items', { retryAfterSeconds: 1 });
  }
  return { firstSeq: Number.isFinite(firstSeq) ? firstSeq : 0, lastSeq, count: bytes.length };
}

/** A run's items as SCANS holds them, by index: the first copy of each index wins (a resend after the duplicate window adds a second). */
export interface StoredRun {
  /** Index → stored bytes and sequence. */
  byIndex: Map<number, { seq: number; data: Uint8Array }>;
  /** The highest index seen plus one. */
  span: number;
}

/** Reads every stored item of a run (between `fromSeq` and `toSeq` when the run's sealed range is known). */
export async function readRunItems(log: EventLog, tenant: string, runId: string, o: { fromSeq?: number; toSeq?: number } = {}): Promise<StoredRun> {
  const byIndex = new Map<number, { seq: number; data: Uint8Array }>();
  let span = 0;
  for await (const m of log.streams.scan(SCANS_STREAM, { filter: runSubject(tenant, runId), ...o })) {
    const index = itemIndexOf(m);
    if (!Number.isInteger(index) || index < 0 || byIndex.has(index)) continue;
    byIndex.set(index, { seq: m.seq, data: m.data });
    span = Math.max(span, index + 1);
  }
  return { byIndex, span };
}

/** The items 0…count-1 of a stored run, with their leaf hashes and SCANS range; null when one is missing. */
export function completeRun(run: StoredRun, count: number): { items: ScanItem[]; leaves: Uint8Array[]; firstSeq: number; lastSeq: number } | null {
  const items: ScanItem[] = [];
  const leaves: Uint8Array[] = [];
  let firstSeq = Number.POSITIVE_INFINITY;
  let lastSeq = 0;
  const decoder = new TextDecoder();
  for (let i = 0; i < count; i++) {
    const m = run.byIndex.get(i);
    if (!m) return null;
    items.push(JSON.parse(decoder.decode(m.data)) as ScanItem);
    leaves.push(leafHash(m.data));
    firstSeq = Math.min(firstSeq, m.seq);
    lastSeq = Math.max(lastSeq, m.seq);
  }
  return { items, leaves, firstSeq: Number.isFinite(firstSeq) ? firstSeq : 0, lastSeq };
}
