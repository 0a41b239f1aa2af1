import { privacyDecider } from '../../commands/privacy/decider.ts';
import type { KeysDestroyed } from '../../commands/privacy/events.ts';
import type { Actor } from '../domain/events.ts';
import { derivedIds, execute } from '../domain/execute.ts';
import { normalizeSubject } from '../domain/personal.ts';
import { StkError } from '../errors.ts';
import { isValidId, newId } from '../ids.ts';
import { TELEMETRY_STREAM, telemetrySubject } from '../telemetry/stream.ts';
import type { EventLog } from '../log/mod.ts';
import { tenantDeleted, type KeyStore } from './keystore.ts';

export interface EraseRequest {
  tenant: string;
  /** `agent:<agentId>`, `account:<name>`, `person:<name or e-mail>` or `user:<userId>`. */
  subject: string;
  /** The operator's reference (a ticket), stored sealed. */
  reference?: string;
  actor: Actor;
  /** Id of the request, so a retried request records nothing twice. @defaultValue a new id */
  erasureId?: string;
}

export interface Erasure {
  erasureId: string;
  /** The subject as it was filed (people are lower-cased). */
  subject: string;
  keysDestroyed: number;
  /** Log position of the recorded destruction (for read-your-writes: the read models have forgotten once they reach it). */
  position: number;
}

/**
 * Erases a data subject of a tenant by crypto-shredding: every data key filed under the subject
 * (every kind, every month) is listed (and a machine's telemetry items removed from TELEMETRY),
 * the erasure kept in the key store (which a restore honours), the destruction recorded as a
 * sealed event naming the key ids (never the subject), then the keys are destroyed. The record comes first so a crash in
 * between still ends with the keys destroyed: whoever applies the event (every projector, the
 * lifecycle role) destroys them too. Events stay byte-identical, so every chain, signature and
 * proof still verifies; the fields can never be read again, and the read models forget them when
 * they apply the event.
 */
export async function eraseSubject(log: EventLog, keys: KeyStore, r: EraseRequest): Promise<Erasure> {
  const subject = normalizeSubject(r.subject);
  if (!subject || subject === 'tenant')
    throw new StkError('STK_ERR_SUBJECT_INVALID', 'a subject is agent:<agentId>, account:<name>, person:<name or e-mail> or user:<userId>', {
      field: 'subject',
    });
  if ((await keys.tenantKey(r.tenant, false)) === 'destroyed') throw tenantDeleted(r.tenant);
  const subjectId = await keys.subjectId(r.tenant, subject);
  const found = await keys.keysOfSubject(r.tenant, subjectId);
  const keyIds = found.map((k) => k.keyId);
  const erasureId = r.erasureId ?? newId();
  // A machine's telemetry items (command lines, users) are in TELEMETRY in the clear, under its own subject: they go too.
  const agentId = subject.startsWith('agent:') ? subject.slice('agent:'.length) : null;
  const machine = agentId !== null && isValidId('token', agentId);
  const telemetryRemoved = machine ? await log.streams.purge(TELEMETRY_STREAM, telemetrySubject(r.tenant, agentId)) : 0;
  // Read after the purge: a restore removes the machine's items up to here again (sequences survive a restore), and keeps what it sent later.
  const telemetryUpTo = machine ? ((await log.streams.state(TELEMETRY_STREAM))?.lastSeq ?? 0) : 0;
  // Kept in the key store before the record in EVENTS: a restore of an older backup finds every recorded erasure there.
  await keys.recordErasure(r.tenant, {
    erasureId,
    subject: subjectId,
    keyIds,
    telemetryUpTo,
    telemetryRemoved,
    ...(r.reference ? { reference: r.reference } : {}),
  });
  const destruction: KeysDestroyed = {
    reason: 'erasure',
    keyIds,
    tenantKey: false,
    ...(telemetryRemoved ? { telemetryRemoved } : {}),
    ...(r.reference ? { reference: r.reference } : {}),
  };
  const done = await execute(
    log,
    { tenant: r.tenant, id: erasureId },
    privacyDecider,
    { kind: 'record-destruction', destruction },
    { actor: r.actor, eventIds: derivedIds(r.tenant, 'erasure', erasureId), idempotent: true, known: 'new' },
  );
  await keys.destroy(r.tenant, keyIds);
  return { erasureId, subject, keysDestroyed: keyIds.length, position: done.position };
}
