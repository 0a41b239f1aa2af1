import type { FastifyError, FastifyInstance } from 'fastify';
import { StkError, type ErrorCode } from '../errors.ts';

/** HTTP status of each error code; chosen here, in the HTTP layer, not by the domain. */
export const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  STK_ERR_INVALID_ID: 400,
  STK_ERR_VALIDATION: 400,
  STK_ERR_LOG_VERSION_CONFLICT: 409,
  STK_ERR_LOG_UNAVAILABLE: 503,
  STK_ERR_NATS_UNREACHABLE: 503,
  STK_ERR_NOT_FOUND: 404,
  STK_ERR_BODY_TOO_LARGE: 413,
  STK_ERR_UNSUPPORTED_MEDIA: 415,
  STK_ERR_AUTH_REQUIRED: 401,
  STK_ERR_FORBIDDEN: 403,
  STK_ERR_RATE_LIMITED: 429,
  STK_ERR_UNAVAILABLE: 503,
  STK_ERR_TENANT_SUSPENDED: 403,
  STK_ERR_PKI_CSR_INVALID: 400,
  STK_ERR_PKI_KEY_REFUSED: 400,
  STK_ERR_ENROLL_SECRET_INVALID: 403,
  STK_ERR_AGENT_CERT_INVALID: 401,
  STK_ERR_AGENT_ID_MISMATCH: 403,
  STK_ERR_AGENT_REVOKED: 403,
  STK_ERR_AGENT_COMMAND_COMPLETED: 409,
  STK_ERR_PROJECTION_BEHIND: 503,
  STK_ERR_PRODUCT_DISABLED: 403,
  STK_ERR_TENANT_EXISTS: 409,
  STK_ERR_INVALID_TRANSITION: 409,
  STK_ERR_PATCH_PACKAGE_INVALID: 400,
  STK_ERR_PATCH_WINDOW_INVALID: 400,
  STK_ERR_SCAN_TARGET_INVALID: 400,
  STK_ERR_SCAN_TARGET_REFUSED: 403,
  STK_ERR_SCAN_TOO_LARGE: 400,
  STK_ERR_SCAN_RUN_CONFLICT: 409,
  STK_ERR_SCAN_RUN_INCOMPLETE: 409,
  STK_ERR_SCAN_ROOT_MISMATCH: 400,
  STK_ERR_SCAN_PROOF_UNAVAILABLE: 409,
  STK_ERR_DETECT_RULE_INVALID: 400,
  STK_ERR_DETECT_CONFIG_INVALID: 400,
  STK_ERR_NOTE_INVALID: 400,
  STK_ERR_LEDGER_UNSEALED: 409,
  STK_ERR_TENANT_RESERVED: 400,
  STK_ERR_USER_EXISTS: 409,
  STK_ERR_INVITATION_INVALID: 410,
  STK_ERR_PASSWORD_WEAK: 400,
  STK_ERR_ACCOUNT_LOCKED: 429,
  STK_ERR_MFA_REQUIRED: 403,
  STK_ERR_MFA_INVALID: 401,
  STK_ERR_MFA_REPLAYED: 401,
  STK_ERR_TOKEN_EXPIRY_TOO_LONG: 400,
  STK_ERR_APPROVAL_SELF: 403,
  STK_ERR_APPROVAL_EXPIRED: 409,
  STK_ERR_SSO_FAILED: 401,
  STK_ERR_EXPORT_TOO_LARGE: 413,
  STK_ERR_BULK_TOO_LARGE: 413,
  STK_ERR_TELEMETRY_ROOT_MISMATCH: 400,
  STK_ERR_TELEMETRY_BATCH_CONFLICT: 409,
  STK_ERR_TELEMETRY_PROOF_UNAVAILABLE: 410,
  STK_ERR_EVIDENCE_HASH_MISMATCH: 400,
  STK_ERR_EVIDENCE_CONTENT_MISSING: 404,
  STK_ERR_EVIDENCE_INTEGRITY: 409,
  STK_ERR_EVIDENCE_ERASED: 410,
  STK_ERR_TENANT_ID_RESERVED: 409,
  STK_ERR_TENANT_DELETED: 409,
  STK_ERR_KEYSTORE_UNAVAILABLE: 503,
  STK_ERR_SUBJECT_INVALID: 400,
  STK_ERR_OFFBOARD_CONFIRM: 400,
  STK_ERR_AGENT_COMMAND_TTL: 400,
  STK_ERR_AGENT_COMMAND_EXPIRED: 409,
  STK_ERR_ENROLL_MACHINE_BLOCKED: 403,
};

/** The JSON body of every error response. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId?: string; data?: Record<string, unknown> };
}

/** Converts fastify's own errors (schema, body size, content type) into catalogue errors. */
export function toStkError(err: FastifyError | Error): StkError {
  if (err instanceof StkError) return err;
  const e = err as FastifyError;
  if (e.validation) return new StkError('STK_ERR_VALIDATION', e.message, { context: e.validationContext });
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new StkError('STK_ERR_BODY_TOO_LARGE', 'request body too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new StkError('STK_ERR_UNSUPPORTED_MEDIA', 'request body must be application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new StkError('STK_ERR_VALIDATION', e.message);
  }
  if (e.statusCode === 400 || e instanceof SyntaxError) return new StkError('STK_ERR_VALIDATION', 'malformed JSON body');
  if (e.statusCode === 429) return new StkError('STK_ERR_RATE_LIMITED', e.message);
  return new StkError('STK_ERR_INTERNAL', 'internal error', {}, { cause: err });
}

/** Data safe to echo to a client: only the fields a client can use to correct its request. */
const CLIENT_DATA_KEYS = new Set(['field', 'expected', 'actual', 'context', 'product', 'limit', 'retryAfterSeconds', 'problems', 'reason']);

/** Installs the error handler and the 404 handler that every Stockade HTTP app uses. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const stk = toStkError(err);
    const status = HTTP_STATUS[stk.code] ?? 500;
    if (status >= 500) req.log.error({ err, code: stk.code }, 'request failed');
    else req.log.info({ code: stk.code, msg: stk.message }, 'request refused');
    const data = Object.fromEntries(Object.entries(stk.data).filter(([k]) => CLIENT_DATA_KEYS.has(k)));
    const body: ErrorBody = {
      error: {
        code: stk.code,
        message: status >= 500 && stk.code === 'STK_ERR_INTERNAL' ? 'internal error' : stk.message,
        requestId: req.id,
        ...(Object.keys(data).length ? { data } : {}),
      },
    };
    if (status === 503 || status === 429 || stk.data.retryAfterSeconds !== undefined) reply.header('Retry-After', String(stk.data.retryAfterSeconds ?? 1));
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    const body: ErrorBody = { error: { code: 'STK_ERR_NOT_FOUND', message: 'not found', requestId: req.id } };
    return reply.status(404).send(body);
  });
}
