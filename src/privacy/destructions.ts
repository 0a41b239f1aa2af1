import { PRIVACY, PrivacyEvents, type KeysDestroyed } from '../../commands/privacy/events.ts';
import { TENANT, TenantEvents } from '../../commands/tenants/events.ts';
import type { EventEnvelope } from '../domain/events.ts';
import { aggregateTypeFilter, type EventLog } from '../log/mod.ts';
import type { KeyStore } from './keystore.ts';

/** True for the events that destroy keys: a recorded destruction, an offboarding. */
export function isDestruction(e: Pick<EventEnvelope, 'type'>): boolean {
  return e.type === PrivacyEvents.keysDestroyed || e.type === TenantEvents.deleted;
}

/**
 * Makes sure the keys a destruction event names are destroyed in this key store. Idempotent: the
 * process that recorded the destruction destroys them, and so does every projector that applies
 * the event (before it forgets), so a crash between the record and the destruction cannot leave a
 * key alive. Returns whether `e` was a destruction.
 */
export async function enforceDestruction(keys: KeyStore, e: EventEnvelope): Promise<boolean> {
  if (e.type === TenantEvents.deleted) {
    await keys.destroyTenant(e.tenant);
    return true;
  }
  if (e.type !== PrivacyEvents.keysDestroyed) return false;
  const d = e.data as KeysDestroyed;
  if (d.tenantKey) await keys.destroyTenant(e.tenant, d.keyIds ?? []);
  else await keys.destroy(e.tenant, d.keyIds ?? []);
  return true;
}

/**
 * Replays every destruction recorded in EVENTS against the key store: run at the start of the
 * lifecycle role, and after a restore, so a key store that is older than the log (or a log restored
 * next to a key store that kept keys an erasure destroyed later) never makes erased fields
 * readable again. Returns how many destruction events it applied.
 */
export async function replayDestructions(log: EventLog, keys: KeyStore): Promise<number> {
  let n = 0;
  for (const type of [PRIVACY, TENANT]) {
    const found: EventEnvelope[] = [];
    await log.scanRecords({ filter: aggregateTypeFilter(type) }, (r) => {
      for (const e of r.events) if (isDestruction(e)) found.push(e);
    });
    for (const e of found) if (await enforceDestruction(keys, e)) n++;
  }
  return n;
}
