/** Why a delivery attempt did not deliver. */
export type FailureReason =
  /** The receiver answered with a status that is not 2xx (see `status`). */
  | 'http-status'
  /** The receiver answered 3xx; redirects are never followed. */
  | 'redirect'
  /** No complete answer within the attempt's time limit. */
  | 'timeout'
  /** Connection refused or reset, name not resolved, and other socket faults. */
  | 'network'
  /** The receiver's address is one the install's network policy refuses (loopback, link-local, private). */
  | 'address-refused'
  /** The TLS handshake failed (untrusted or expired certificate, wrong name). */
  | 'tls'
  /** The SMTP server does not offer STARTTLS: nothing is sent in clear, so nothing is sent. */
  | 'starttls-unavailable'
  /** The SMTP server refused the login. */
  | 'smtp-auth'
  /** The SMTP server refused a command or the message with a 4xx or 5xx reply (see `status`). */
  | 'smtp-reply';

/** The outcome of one delivery attempt: a value, never a throw. */
export type DeliveryResult =
  | { outcome: 'delivered'; status: number | null; detail?: string }
  | { outcome: 'retryable'; reason: FailureReason; status: number | null; detail: string; retryAfterMs: number | null }
  | { outcome: 'permanent'; reason: FailureReason; status: number | null; detail: string };

/** A failed attempt's result. */
export type DeliveryFailure = Exclude<DeliveryResult, { outcome: 'delivered' }>;

export function retryable(reason: FailureReason, detail: string, status: number | null = null, retryAfterMs: number | null = null): DeliveryFailure {
  return { outcome: 'retryable', reason, status, detail, retryAfterMs };
}

export function permanent(reason: FailureReason, detail: string, status: number | null = null): DeliveryFailure {
  return { outcome: 'permanent', reason, status, detail };
}

/** Text from a remote party, made safe to keep in an event or a log line. */
export function detailText(text: string, max = 300): string {
  const s = oneLine(text).trim();
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** True for the codes Node and OpenSSL give a failed TLS handshake or certificate check. */
export function isTlsErrorCode(code: string): boolean {
  return /^(ERR_TLS_|ERR_SSL_|UNABLE_TO_|CERT_|SELF_SIGNED|DEPTH_ZERO|HOSTNAME_MISMATCH|INVALID_CA|INVALID_PURPOSE|PATH_LENGTH_EXCEEDED)/.test(code);
}

/** Replaces each run of control characters (C0, DEL, C1) and Unicode line or paragraph separators with one space. */
export function oneLine(text: string): string {
  let out = '';
  let inRun = false;
  for (const ch of String(text)) {
    const c = ch.codePointAt(0)!;
    const control = c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029;
    if (control) {
      if (!inRun) out += ' ';
      inRun = true;
    } else {
      out += ch;
      inRun = false;
    }
  }
  return out;
}
