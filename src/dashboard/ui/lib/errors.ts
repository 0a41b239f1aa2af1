/**
 * What people read when something fails: a sentence per error code of the catalogue
 * (`docs/errors.md`), shown with the code itself so support can find it. The server's own message
 * is kept as a detail; raw texts of the browser (`Failed to fetch`) never reach the page.
 */
const SENTENCES: Record<string, string> = {
  STK_ERR_VALIDATION: 'Stockade did not accept what was sent: a field is missing, too long or not of the right form.',
  STK_ERR_INVALID_ID: 'An id in this request is not of a valid form.',
  STK_ERR_NOT_FOUND: 'This item no longer exists, or it is not available to you.',
  STK_ERR_FORBIDDEN: 'Your role may not do this.',
  STK_ERR_AUTH_REQUIRED: 'Your session has ended. Sign in again to go on.',
  STK_ERR_RATE_LIMITED: 'Too many requests at once. Wait a moment and retry.',
  STK_ERR_UNAVAILABLE: 'Stockade could not be reached or is busy. Check the connection, then retry.',
  STK_ERR_PROJECTION_BEHIND: 'Stockade is still catching up with recent changes. Retry in a moment.',
  STK_ERR_LOG_UNAVAILABLE: 'Stockade cannot reach its event log right now. Retry in a moment.',
  STK_ERR_LOG_VERSION_CONFLICT: 'Someone else changed this item at the same moment. Look at it again, then retry.',
  STK_ERR_INVALID_TRANSITION: 'This item was already changed (by you or someone else) and no longer allows this.',
  STK_ERR_PRODUCT_DISABLED: 'The product this needs is switched off for this customer.',
  STK_ERR_TENANT_SUSPENDED: 'This customer is suspended: nothing can be sent to its agents until it is resumed.',
  STK_ERR_TENANT_EXISTS: 'A customer with this id already exists. Choose another id.',
  STK_ERR_AGENT_REVOKED: 'This agent is revoked and takes no commands.',
  STK_ERR_DETECT_RULE_INVALID: 'The rule was not accepted: every problem is listed with its line, and nothing was saved.',
  STK_ERR_DETECT_CONFIG_INVALID: 'The detection settings were not accepted: every problem is listed, and nothing was saved.',
  STK_ERR_TELEMETRY_PROOF_UNAVAILABLE:
    'No proof can be given for this item any more: its batch was never sealed, or items of it were dropped by the telemetry retention.',
  STK_ERR_EVIDENCE_CONTENT_MISSING: 'This evidence has no stored bytes to download: the agent reported its hash only.',
  STK_ERR_EVIDENCE_INTEGRITY:
    'The stored bytes of this evidence no longer match the fingerprint sealed when it was collected. The download was refused and nothing was recorded.',
  STK_ERR_EVIDENCE_ERASED:
    'The bytes of this evidence were erased (its machine was erased, or they aged out) and can never be read again. Its fingerprint and custody trail remain.',
  STK_ERR_NOTIFY_SECRET_UNREADABLE: "This channel's stored secrets cannot be opened: enter them again.",
  STK_ERR_BULK_TOO_LARGE: 'Too many items match this filter to change at once; nothing was changed. Narrow the filter, then try again.',
  STK_ERR_EXPORT_TOO_LARGE: 'This export would hold more than 100,000 rows. Narrow the filter, then export again.',
  STK_ERR_BODY_TOO_LARGE: 'What was sent is too large.',
  STK_ERR_UNSUPPORTED_MEDIA: 'What was sent is not in a form Stockade reads.',
  STK_ERR_INTERNAL: 'Something went wrong inside Stockade. The request id below finds it in the logs.',
  STK_ERR_TENANT_RESERVED: 'Customer ids starting with stk- are reserved for Stockade itself. Choose another id.',
  STK_ERR_USER_EXISTS: 'A person with this e-mail is already a user of this install.',
  STK_ERR_INVITATION_INVALID:
    'This invitation cannot be used: it was used already, replaced by a newer one, or it has expired. Ask whoever invited you for a new link.',
  STK_ERR_PASSWORD_WEAK: 'This password is too easy to guess. Choose another.',
  STK_ERR_ACCOUNT_LOCKED: 'Too many failed sign-ins for this account. Wait a moment, then try again.',
  STK_ERR_MFA_REQUIRED: 'A second factor is needed: set up MFA, or enter the code of your authenticator app.',
  STK_ERR_MFA_INVALID: 'That code is not valid. Enter the current code of your authenticator app, or an unused recovery code.',
  STK_ERR_MFA_REPLAYED: 'That code was used already: each code works once. Wait for the next code in your app, then enter it.',
  STK_ERR_TOKEN_EXPIRY_TOO_LONG: 'That lifetime is longer than this install allows for API tokens.',
  STK_ERR_APPROVAL_SELF: 'You asked for this yourself: a second person has to approve or reject it.',
  STK_ERR_APPROVAL_EXPIRED: 'This request expired before anyone decided it. Ask again if it is still needed.',
  STK_ERR_SSO_FAILED: 'Single sign-on did not complete. Start it again from the sign-in page.',
};

/** Why a password was refused (`STK_ERR_PASSWORD_WEAK`'s `reason`), as people read it. */
export const PASSWORD_REASONS: Record<string, string> = {
  'too-short': 'A password needs at least 12 characters.',
  'too-long': 'A password has at most 256 characters.',
  common: 'This password is one of the most common ones, the first that attackers try. Choose another.',
  repetitive: 'This password repeats one or two characters. Choose one with more different characters.',
  sequence: 'This password is a plain run of characters (like abcdef or 123456). Choose another.',
  personal: 'A password cannot contain your name or your e-mail address.',
};

/** Codes whose sentence already says which field is wrong. */
const SELF_EXPLAINED = new Set(['STK_ERR_MFA_INVALID', 'STK_ERR_MFA_REPLAYED', 'STK_ERR_MFA_REQUIRED', 'STK_ERR_USER_EXISTS']);

/** Codes where the same request may well work a moment later. */
const RETRYABLE = new Set(['STK_ERR_UNAVAILABLE', 'STK_ERR_RATE_LIMITED', 'STK_ERR_PROJECTION_BEHIND', 'STK_ERR_LOG_UNAVAILABLE', 'STK_ERR_INTERNAL']);

/** An error as the page shows it. */
export interface Explained {
  sentence: string;
  code: string;
  detail: string | null;
  retryable: boolean;
}

/** An error of the API (or of the way to it), with everything a notice needs. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string | null,
    readonly data: Record<string, unknown> = {},
    readonly requestId: string | null = null,
  ) {
    super(`${code}: ${detail ?? ''}`);
    this.name = 'ApiError';
  }
}

/** The sentence, code and retry advice for any thrown value. */
export function explain(err: unknown): Explained {
  if (err instanceof ApiError) {
    const reason = err.code === 'STK_ERR_PASSWORD_WEAK' && typeof err.data.reason === 'string' ? PASSWORD_REASONS[err.data.reason] : undefined;
    const limit = err.code === 'STK_ERR_TOKEN_EXPIRY_TOO_LONG' && typeof err.data.limit === 'number' ? ` The longest is ${err.data.limit} days.` : '';
    const wait = typeof err.data.retryAfterSeconds === 'number' ? ` Try again in ${err.data.retryAfterSeconds} s.` : '';
    const field = typeof err.data.field === 'string' && !reason && !limit && !SELF_EXPLAINED.has(err.code) ? ` (field: ${err.data.field})` : '';
    return {
      sentence: (reason ?? SENTENCES[err.code] ?? 'Stockade refused this request.') + limit + wait + field,
      code: err.code,
      detail: err.requestId ? `request ${err.requestId}` : null,
      retryable: RETRYABLE.has(err.code),
    };
  }
  if (err instanceof DOMException && err.name === 'AbortError')
    return { sentence: 'The request was cancelled.', code: 'ABORTED', detail: null, retryable: true };
  return { sentence: SENTENCES.STK_ERR_INTERNAL!, code: 'STK_ERR_INTERNAL', detail: null, retryable: true };
}
