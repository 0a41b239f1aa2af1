import { StkError } from '../errors.ts';
import type { Streams } from '../log/mod.ts';
import { GENESIS_HEAD, LEDGER_SCAN_BATCH, LEDGER_STREAM, entryHashes, ledgerSubject, parseBlock, type Block } from './format.ts';
import { Frontier } from './tree.ts';

/** One block of a replayed chain, with what the replay recomputed for its entries. */
export interface ReplayedBlock {
  block: Block;
  ledgerSeq: number;
  /** Chain head before each entry (the entry's `prevHead`), in height order. */
  prevHeads: string[];
  /** Each entry's leaf hash (hex), in height order. */
  leaves: string[];
}

/**
 * Reads a tenant's blocks from LEDGER in order (up to `toSeq`) and recomputes every entry's head
 * and leaf from the block's own entries: the chain as anyone can rebuild it from LEDGER alone,
 * without EVENTS. A block that does not extend the one before it, or whose entries do not hash to
 * the head (or, format 2, the root) it signs, stops the replay with STK_ERR_LEDGER_CORRUPT.
 * Signatures are not checked here: `verify` does that; readers of their own LEDGER rely on the
 * stream's permissions and on the roots the blocks sign.
 */
export async function replayChain(
  streams: Streams,
  tenant: string,
  each: (b: ReplayedBlock, frontier: Frontier) => void | Promise<void>,
  o: { fromSeq?: number; toSeq?: number; start?: { height: number; head: string; frontier: Frontier } } = {},
): Promise<{ height: number; head: string; frontier: Frontier; ledgerSeq: number }> {
  let height = o.start?.height ?? 0;
  let head = o.start?.head ?? GENESIS_HEAD;
  const frontier = o.start?.frontier ?? Frontier.empty();
  let ledgerSeq = 0;
  for await (const m of streams.scan(LEDGER_STREAM, {
    filter: ledgerSubject(tenant),
    batch: LEDGER_SCAN_BATCH,
    ...(o.fromSeq ? { fromSeq: o.fromSeq } : {}),
    ...(o.toSeq ? { toSeq: o.toSeq } : {}),
  })) {
    const where = { tenant, ledgerSeq: m.seq };
    const b = parseBlock(m.data, where);
    if (b.tenant !== tenant || b.firstHeight !== height + 1 || b.prevHead !== head) {
      throw new StkError('STK_ERR_LEDGER_CORRUPT', `block ${b.index} of ${tenant} does not extend the chain at height ${height}`, { ...where, height });
    }
    const prevHeads: string[] = [];
    const leaves: string[] = [];
    for (let i = 0; i < b.entries.length; i++) {
      prevHeads.push(head);
      const step = entryHashes(tenant, b.firstHeight + i, head, b.entries[i]![2]);
      leaves.push(step.leaf);
      frontier.append(step.leaf);
      head = step.head;
    }
    if (head !== b.head || (b.format === 2 && frontier.root() !== b.root)) {
      throw new StkError('STK_ERR_LEDGER_CORRUPT', `the entries of block ${b.index} of ${tenant} do not hash to what it signs`, where);
    }
    height = b.lastHeight;
    ledgerSeq = m.seq;
    await each({ block: b, ledgerSeq: m.seq, prevHeads, leaves }, frontier);
  }
  return { height, head, frontier, ledgerSeq };
}
