import type { Doc } from '../store/model.ts';
import type { TenantStore } from '../store/store.ts';

/**
 * Whether a counts document a read model keeps per tenant was kept since the tenant's first
 * document of `collection`: `firstId` (the document whose creation created the counts) is the
 * oldest there is. Counts created later were added by a build to a model not rebuilt since, and
 * count only what came after; a reader then counts the documents instead.
 */
export async function keptSinceFirst(store: TenantStore, collection: string, firstId: string): Promise<boolean> {
  for await (const page of store.walk<Doc>(collection, { pageSize: 1 })) return page[0]?.id === firstId;
  return false;
}
