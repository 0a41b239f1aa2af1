/**
 * The one catalogue of errors a Stockade user can see. Codes never change once released; the
 * descriptions here are the source of `docs/errors.md` (a test keeps the two in step).
 * HTTP statuses are chosen in the HTTP layer (src/http/errors.ts), not here.
 */
export const ERRORS = {
  STK_ERR_INVALID_ID:
    'An id is not of the allowed form (tenant `^[a-z0-9][a-z0-9-]{0,62}$`, other ids `[A-Za-z0-9_-]{1,64}`). Rejected before it can reach a NATS subject.',
  STK_ERR_VALIDATION: 'A request or command failed validation (schema, unknown field, size limit).',
  STK_ERR_LOG_VERSION_CONFLICT: 'An append expected one aggregate version and found another: someone else wrote first. Carries `expected` and `actual`.',
  STK_ERR_LOG_UNAVAILABLE: 'The event log (NATS JetStream) could not be reached or did not answer in time.',
  STK_ERR_LOG_CORRUPT_RECORD: 'A stored record of the event log could not be decoded.',
  STK_ERR_LOG_SCHEMA_UNKNOWN: 'An event payload has a schema version newer than this build can read.',
  STK_ERR_NATS_UNREACHABLE: 'NATS could not be reached at start-up.',
  STK_ERR_NATS_SERVER_START: 'The embedded nats-server child could not be started.',
  STK_ERR_NATS_SERVER_MISSING: 'No nats-server binary was found; `sh infra/ensure-nats.sh` installs it.',
  STK_ERR_DATA_LOCKED: 'Another Stockade process is already running on this data folder.',
  STK_ERR_CONFIG: 'A configuration value (flag or STOCKADE_* variable) is invalid.',
  STK_ERR_NOT_FOUND: "No such resource. Also the answer for another tenant's resource, so existence is never revealed across tenants.",
  STK_ERR_BODY_TOO_LARGE: 'The request body is larger than the route allows.',
  STK_ERR_UNSUPPORTED_MEDIA: 'The request body is not JSON.',
  STK_ERR_AUTH_REQUIRED: 'No valid credential was presented.',
  STK_ERR_FORBIDDEN: 'The credential is valid but may not do this.',
  STK_ERR_RATE_LIMITED: 'Too many requests; retry after the time in `Retry-After`.',
  STK_ERR_UNAVAILABLE: 'A dependency is down or the system is shedding load; retry after the time in `Retry-After`.',
  STK_ERR_PROJECTION_BEHIND: 'A read asked to wait for a position (read-your-writes) that the read models did not reach within the bounded wait; retry.',
  STK_ERR_TENANT_EXISTS: 'A tenant with this id already exists.',
  STK_ERR_INVALID_TRANSITION: 'The item is not in a state that allows this change (for example closing a closed incident). Carries `actual`.',
  STK_ERR_PRODUCT_DISABLED:
    'The product this route, report kind or command action belongs to (edr, identity, attack-surface, patch) is off for the tenant. Carries `product`.',
  STK_ERR_TENANT_SUSPENDED: 'The tenant is suspended: its agents are refused at the ingress and its enrollment secret enrolls nothing.',
  STK_ERR_PKI_CSR_INVALID:
    'A certificate signing request is not a PEM PKCS#10 request or its signature does not verify with its own key (no proof of possession).',
  STK_ERR_PKI_KEY_REFUSED: 'The key in a certificate signing request is of a refused type or size (accepted: ECDSA P-256/P-384, Ed25519, RSA ≥ 2048).',
  STK_ERR_ENROLL_SECRET_INVALID: "Invalid or missing enrollment secret. The same answer whatever the reason (wrong, rotated, unknown, another tenant's).",
  STK_ERR_AGENT_CERT_INVALID: "The agent request has no client certificate from this install's CA, or it is expired, or no enrolled agent matches it.",
  STK_ERR_AGENT_ID_MISMATCH: "The `agentId` in the request does not match the client certificate's CN.",
  STK_ERR_AGENT_REVOKED: 'The agent is revoked: its certificate is refused even before it expires, and it takes no new commands.',
  STK_ERR_AGENT_COMMAND_COMPLETED: 'The agent command already has a result; a result is posted once (a retry of the same result is accepted).',
  STK_ERR_LEDGER_CORRUPT: 'A message of the LEDGER stream (block, key record, checkpoint) is not of the documented format.',
  STK_ERR_LEDGER_FOREIGN_HEAD: 'The sealer refuses to extend a chain whose stored head (or key record) it did not sign with its own keys.',
  STK_ERR_LEDGER_KEY: 'The ledger signing keyring is missing, unreadable or invalid.',
  STK_ERR_LEDGER_CHECKPOINT: 'A checkpoint file is unreadable or not a ledger checkpoint.',
  STK_ERR_BACKUP_CORRUPT:
    'A backup folder is not a Stockade backup, or a file in it does not match the SHA-256 or the counts its manifest records; nothing is restored from it.',
  STK_ERR_RESTORE_TARGET_EXISTS:
    'A restore found the EVENTS or LEDGER stream already present on the target NATS; it restores only into a NATS where neither exists yet.',
  STK_ERR_RESTORE_MISMATCH:
    'A restored stream does not hold what the backup holds (a message stored out of order, dropped as a duplicate, or a count or content digest that differs from the manifest).',
  STK_ERR_VIDEO_SPEC_INVALID:
    'A video spec (`docs/videos/specs/NN-name.yaml`) is not valid YAML or does not follow the spec schema. Carries `file`, `step` (1-based, or null for the top level) and `field`.',
  STK_ERR_VIDEO_TOOL_MISSING:
    'A tool the video pipeline needs is not installed: ffmpeg/ffprobe, chromium, or any voice (Piper, Festival with an HTS voice, flite, espeak-ng). Carries `tool` and the Debian `package`.',
  STK_ERR_VIDEO_SIGN_IN_FAILED: 'The video pipeline could not sign in to the dashboard with the credential it was given. Carries `url`.',
  STK_ERR_VIDEO_STEP_FAILED:
    'A step of a video spec could not be played against the dashboard (a page that did not open, a selector that never appeared). Carries `file`, `step`, `action` and `selector`.',
  STK_ERR_VIDEO_RENDER_FAILED: 'ffmpeg, ffprobe or a voice engine failed while rendering a video. Carries `tool`, `exitCode` and the end of its error output.',
  STK_ERR_VIDEO_CHECK_FAILED:
    'A rendered video failed one of the checks (streams, duration, loudness, subtitle timing, frames, pointer). Carries `file` and the failed `checks`.',
  STK_ERR_INTERNAL: 'An unexpected fault. The response carries a request id to find it in the logs.',
} as const;

export type ErrorCode = keyof typeof ERRORS;

/** Data an error carries besides its code: the ids, positions and values that explain it. */
export type ErrorData = Record<string, unknown>;

/** A Stockade error: a stable `code`, structured `data`, and the underlying `cause` if any. */
export class StkError extends Error {
  readonly code: ErrorCode;
  readonly data: ErrorData;

  constructor(code: ErrorCode, message?: string, data: ErrorData = {}, options?: { cause?: unknown }) {
    super(message ?? ERRORS[code], options);
    this.name = 'StkError';
    this.code = code;
    this.data = data;
  }

  toJSON(): { code: ErrorCode; message: string; data: ErrorData } {
    return { code: this.code, message: this.message, data: this.data };
  }
}

/** True when `err` is a StkError, and of `code` when one is given. */
export function isStkError(err: unknown, code?: ErrorCode): err is StkError {
  return err instanceof StkError && (code === undefined || err.code === code);
}
