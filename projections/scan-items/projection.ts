import type { ScanItem } from '../../src/scan/items.ts';
import { itemDocId } from '../../src/scan/runs/ids.ts';
import type { Doc } from '../../src/store/model.ts';
import { defineProjection } from '../define.ts';

/** The event type of a SCANS item as the stream projector hands it to projections. */
export const SCAN_ITEM = 'scan.item';

/** What the SCANS envelope carries: the item, its index in the run, its SCANS sequence. */
export interface ScanItemData {
  index: number;
  item: ScanItem;
}

/** Items of a run are listed in their defined order: the highest sort key comes first. */
const ORDER_BASE = 999_999;

export interface ScanItemDoc extends Doc, ScanItem {
  runId: string;
  index: number;
  /** SCANS sequence of the stored item (what a proof is built over). */
  storedSeq: number;
  storedAt: string;
}

/**
 * Every item of every scan run, one document each, as SCANS holds them (fed by the SCANS stream
 * projector, not by EVENTS). The first copy of an index wins, as it does for proofs: a part resent
 * after the duplicate window changes nothing here.
 */
export const scanItemsProjection = defineProjection({
  model: 'scan-items',
  main: 'scan-items',
  collections: { 'scan-items': { indexes: ['runId'], scan: ['state', 'port', 'address'] } },
  on: {
    [SCAN_ITEM]: {
      reads: (e) => [{ collection: 'scan-items', id: itemDocId(e.aggregate.id, (e.data as ScanItemData).index) }],
      apply: (e, docs, seq) => {
        const d = e.data as ScanItemData;
        const id = itemDocId(e.aggregate.id, d.index);
        if (docs.get('scan-items', id)) return [];
        const doc: ScanItemDoc = { ...d.item, id, seq: ORDER_BASE - d.index, runId: e.aggregate.id, index: d.index, storedSeq: seq, storedAt: e.at };
        return [{ collection: 'scan-items', id, doc }];
      },
    },
  },
});
