import { StkError } from '../errors.ts';
import { filterQuery, type ListOptions } from './lists.ts';
import type { TenantContext } from './route.ts';

/** Most items one change by filter may select; a filter matching more is refused before anything is written. */
export const BULK_FILTER_MAX = 100_000;
/** Items one batch of a change by filter runs before the next batch is taken. */
const BULK_BATCH = 100;
/** Items of a batch run at once (each its own aggregate, through the one write path). */
const BULK_CONCURRENCY = 4;

/** What a change by filter did: how many items the filter selected and what became of them. */
export interface BulkCount {
  matched: number;
  changed: number;
  unchanged: number;
  refused: number;
  consistencyToken: string;
}

/** Refuses a bulk body that names both ids and a filter, or neither. */
export function idsOrFilter(ids: string[] | undefined, filter: object | undefined, field: string): void {
  if ((ids === undefined) === (filter === undefined))
    throw new StkError('STK_ERR_VALIDATION', `give either ${field} or filter, not both`, { field: ids === undefined ? field : 'filter' });
}

/**
 * The ids a list filter selects now, in this tenant only (the tenant-bound store): the list's own
 * filters, time range and free text. Refused with STK_ERR_BULK_TOO_LARGE past BULK_FILTER_MAX.
 */
export async function selectByFilter(
  c: TenantContext,
  collection: string,
  filters: Record<string, object>,
  o: ListOptions,
  filter: Record<string, string>,
): Promise<string[]> {
  const query = await filterQuery(c, filter, collection, filters, o);
  const { ids, more } = await c.store.ids(collection, query, BULK_FILTER_MAX);
  if (more) throw new StkError('STK_ERR_BULK_TOO_LARGE', `more than ${BULK_FILTER_MAX} ${collection} match; narrow the filter`, { limit: BULK_FILTER_MAX });
  return ids;
}

/**
 * Runs one command per item of `ids` through the write pipeline, a bounded batch at a time: an
 * item already in the asked state is `unchanged`, one past it `refused` (not a failure of the
 * call); a fault of the log stops the call (what was done stays done, and is in the audit log).
 * The set is the one selected when the call began: items that match later are not touched.
 */
export async function bulkCount(c: TenantContext, ids: string[], run: (id: string) => Promise<{ position: number; events: unknown[] }>): Promise<BulkCount> {
  const out = { matched: ids.length, changed: 0, unchanged: 0, refused: 0 };
  let last = 0;
  for (let i = 0; i < ids.length; i += BULK_BATCH) {
    const batch = ids.slice(i, i + BULK_BATCH);
    let next = 0;
    const worker = async () => {
      while (next < batch.length) {
        const id = batch[next++]!;
        try {
          const r = await run(id);
          if (r.position > last) last = r.position;
          if (r.events.length) out.changed++;
          else out.unchanged++;
        } catch (err) {
          if (!(err instanceof StkError) || err.code !== 'STK_ERR_INVALID_TRANSITION') throw err;
          out.refused++;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(BULK_CONCURRENCY, batch.length) }, worker));
  }
  return { ...out, consistencyToken: last ? await c.settle(last) : c.readToken() };
}
