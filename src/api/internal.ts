import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

/** Header the dashboard sets on its in-process calls to the API. */
export const INTERNAL_HEADER = 'x-stockade-internal';

// Made at start, never written anywhere: only code of this process can put it on a request.
const SECRET = randomBytes(32).toString('base64url');

/** The header value that marks an in-process call of this process's dashboard. */
export function internalCallHeader(): Record<string, string> {
  return { [INTERNAL_HEADER]: SECRET };
}

/**
 * True for a request this process's dashboard made through `app.inject`: a user session's
 * credential is honoured on those only, so the cookie's secret never works as a Bearer token from
 * outside.
 */
export function isInternalCall(req: FastifyRequest): boolean {
  const h = req.headers[INTERNAL_HEADER];
  return typeof h === 'string' && h.length === SECRET.length && timingSafeEqual(Buffer.from(h), Buffer.from(SECRET));
}
