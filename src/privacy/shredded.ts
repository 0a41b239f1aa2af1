import { PRIVACY, PrivacyEvents, type KeysDestroyed } from '../../commands/privacy/events.ts';
import { TENANT, TenantEvents } from '../../commands/tenants/events.ts';
import type { EventEnvelope } from '../domain/events.ts';

// Without its opening quote: a search for a needle that starts with '"', the commonest byte of
// JSON, stops at every string; this one costs half as much. A key merely ending in "sealed" only
// costs a parse, which looks at the events' real `sealed` fields.
const SEALED_MARK = Buffer.from('sealed":{');
const dec = new TextDecoder();

/**
 * Counts the entries of one tenant's chain whose personal fields are shredded, from the stored
 * records alone and without any key: a record is shredded when one of its events is sealed under a
 * key that a later `privacy.keys-destroyed` event lists, or when the tenant key itself was destroyed
 * (an offboarding). `stockade ledger verify` reports the count, so a destroyed key shows as
 * "N entries shredded" and never as a break: the records' bytes are untouched.
 */
export class ShredTally {
  /** Records sealed under exactly one key, by key (the common case, kept as counts). */
  readonly #single = new Map<string, number>();
  /** Records sealed under several keys (any one destroyed shreds them). */
  readonly #multi: string[][] = [];
  #sealed = 0;
  readonly #destroyed = new Set<string>();
  #tenantKey = false;

  /** Looks at one stored record (`subject` and exact body). Cheap for the records that seal nothing. */
  record(subject: string, body: Uint8Array): void {
    const destruction = typeTokenIs(subject, PRIVACY) || typeTokenIs(subject, TENANT);
    // Runs for every record verify reads: no split subject, no second view of a body that is a Buffer already.
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    const sealed = bytes.indexOf(SEALED_MARK) >= 0;
    if (!destruction && !sealed) return;
    let events: EventEnvelope[];
    try {
      events = (JSON.parse(dec.decode(body)) as { events: EventEnvelope[] }).events;
    } catch {
      return; // an unreadable record is verify's to report, not this count's
    }
    const keys = new Set<string>();
    for (const e of events) {
      if (e.type === PrivacyEvents.keysDestroyed) {
        const d = e.data as KeysDestroyed;
        for (const k of d.keyIds ?? []) this.#destroyed.add(k);
        if (d.tenantKey) this.#tenantKey = true;
      } else if (e.type === TenantEvents.deleted) this.#tenantKey = true;
      for (const k of e.sealed?.keys ?? []) keys.add(k);
    }
    if (keys.size === 0) return;
    this.#sealed++;
    if (keys.size === 1) {
      const k = keys.values().next().value as string;
      this.#single.set(k, (this.#single.get(k) ?? 0) + 1);
    } else this.#multi.push([...keys]);
  }

  /** Records whose fields can no longer be read, given every destruction seen. */
  count(): number {
    if (this.#tenantKey) return this.#sealed;
    let n = 0;
    for (const [k, c] of this.#single) if (this.#destroyed.has(k)) n += c;
    for (const keys of this.#multi) if (keys.some((k) => this.#destroyed.has(k))) n++;
    return n;
  }
}

/** Whether the fourth token of `subject` (the aggregate type of `ev.<partition>.<tenant>.<type>.<id>`) is `type`. */
function typeTokenIs(subject: string, type: string): boolean {
  let at = -1;
  for (let k = 0; k < 3; k++) {
    at = subject.indexOf('.', at + 1);
    if (at < 0) return false;
  }
  const end = at + 1 + type.length;
  return subject.startsWith(type, at + 1) && (end === subject.length || subject.charCodeAt(end) === 0x2e);
}
