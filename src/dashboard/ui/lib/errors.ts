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
  STK_ERR_NOTIFY_SECRET_UNREADABLE: "This channel's stored secrets cannot be opened: enter them again.",
  STK_ERR_EXPORT_TOO_LARGE: 'This export would hold more than 100,000 rows. Narrow the filter, then export again.',
  STK_ERR_BODY_TOO_LARGE: 'What was sent is too large.',
  STK_ERR_UNSUPPORTED_MEDIA: 'What was sent is not in a form Stockade reads.',
  STK_ERR_INTERNAL: 'Something went wrong inside Stockade. The request id below finds it in the logs.',
};

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
    const field = typeof err.data.field === 'string' ? ` (field: ${err.data.field})` : '';
    return {
      sentence: (SENTENCES[err.code] ?? 'Stockade refused this request.') + field,
      code: err.code,
      detail: err.requestId ? `request ${err.requestId}` : null,
      retryable: RETRYABLE.has(err.code),
    };
  }
  if (err instanceof DOMException && err.name === 'AbortError')
    return { sentence: 'The request was cancelled.', code: 'ABORTED', detail: null, retryable: true };
  return { sentence: SENTENCES.STK_ERR_INTERNAL!, code: 'STK_ERR_INTERNAL', detail: null, retryable: true };
}
