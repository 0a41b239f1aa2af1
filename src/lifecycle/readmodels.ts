import { PrivacyEvents } from '../../commands/privacy/events.ts';
import { TENANT, TenantEvents } from '../../commands/tenants/events.ts';
import { aggregateTypeFilter, type EventLog } from '../log/mod.ts';
import { enforceDestruction } from '../privacy/destructions.ts';
import type { KeyStore } from '../privacy/keystore.ts';
import type { ProjectorLifecycle } from '../projector/reset.ts';

/** Every tenant offboarded in the stream: a scan of the tenant aggregates only (few and small). */
export async function deletedTenants(log: EventLog): Promise<Set<string>> {
  const gone = new Set<string>();
  await log.scanRecords({ filter: aggregateTypeFilter(TENANT) }, (r) => {
    if (r.events.some((e) => e.type === TenantEvents.deleted)) gone.add(r.tenant);
  });
  return gone;
}

/**
 * What erasure, retention and offboarding ask of the read models: a key destruction makes its
 * tenant's documents be rebuilt from its events as they read now (the read models forget what the
 * keys protected), an offboarding removes the tenant's documents. `keys` is this process's key
 * store (null without field encryption), in which every destruction is enforced before the replay.
 */
export function readModelLifecycle(keys: KeyStore | null): ProjectorLifecycle {
  return {
    resetOf: (e) => (e.type === PrivacyEvents.keysDestroyed ? 'forget' : e.type === TenantEvents.deleted ? 'remove' : null),
    enforce: async (e) => {
      if (keys) await enforceDestruction(keys, e);
    },
    deletedTenants,
  };
}
