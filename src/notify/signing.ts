// The receiver's half of this file (`verifyWebhook`) uses nothing but node:crypto, so a receiver
// can copy it as it is; docs/notifications.md describes the scheme for other languages.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. */
export const SIGNATURE_HEADER = 'Stockade-Signature';
/** Header carrying the delivery id, the same on every retry of one message. */
export const DELIVERY_HEADER = 'Stockade-Delivery';
/** How far a signature's timestamp may be from the receiver's clock, by default. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** The `Stockade-Signature` value for `rawBody` sent at `now`. */
export function signWebhook(secret: string, rawBody: string | Uint8Array, now: Date): string {
  const t = Math.floor(now.getTime() / 1000);
  return `t=${t},v1=${hmacHex(secret, t, rawBody)}`;
}

function hmacHex(secret: string, t: number, rawBody: string | Uint8Array): string {
  return createHmac('sha256', secret).update(`${t}.`, 'utf8').update(rawBody).digest('hex');
}

/** Why a receiver refused a delivery; `ok` when the signature holds. */
export type WebhookVerification =
  | { ok: true; timestamp: number; deliveryId: string | null }
  | { ok: false; reason: 'missing-signature' | 'malformed-signature' | 'timestamp-out-of-tolerance' | 'signature-mismatch' };

type HeaderBag = Record<string, string | string[] | undefined> | { get(name: string): string | null };

function header(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') return (headers as { get(n: string): string | null }).get(name) ?? undefined;
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (k.toLowerCase() === wanted) return Array.isArray(v) ? v.join(',') : v;
  }
  return undefined;
}

/**
 * Checks a Stockade webhook as a receiver gets it: `rawBody` must be the bytes as received (before
 * any JSON parsing), `now` the receiver's clock. Refuses a timestamp more than `toleranceSeconds`
 * away from `now` (a replay of an old delivery) and compares signatures in constant time; any
 * `v1=` entry may match (a sender rotating its secret signs with both).
 */
export function verifyWebhook(
  headers: HeaderBag,
  rawBody: string | Uint8Array,
  secret: string,
  now: Date,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): WebhookVerification {
  const value = header(headers, SIGNATURE_HEADER);
  if (!value) return { ok: false, reason: 'missing-signature' };
  let t: number | null = null;
  const signatures: string[] = [];
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const val = part.slice(eq + 1).trim();
    if (key === 't' && /^[0-9]{1,12}$/.test(val)) t = Number(val);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(val)) signatures.push(val);
  }
  if (t === null || signatures.length === 0) return { ok: false, reason: 'malformed-signature' };
  if (Math.abs(Math.floor(now.getTime() / 1000) - t) > toleranceSeconds) return { ok: false, reason: 'timestamp-out-of-tolerance' };
  const expected = Buffer.from(hmacHex(secret, t, rawBody), 'hex');
  let match = false;
  // Every entry is compared, so the time taken does not tell which one matched.
  for (const s of signatures) match = timingSafeEqual(expected, Buffer.from(s, 'hex')) || match;
  if (!match) return { ok: false, reason: 'signature-mismatch' };
  return { ok: true, timestamp: t, deliveryId: header(headers, DELIVERY_HEADER) ?? null };
}
