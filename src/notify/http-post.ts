import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { AddressRefusedError, type NetworkPolicy, policyLookup, refusedAddress } from './network.ts';
import { type DeliveryResult, detailText, isTlsErrorCode, permanent, retryable } from './outcome.ts';

/** Options of an HTTP delivery (webhook, chat). */
export interface HttpDeliveryOptions {
  /** Whole attempt: connect, TLS, request, answer. @defaultValue 10000 */
  timeoutMs?: number;
  /** Answer bytes read at most (the rest is dropped with the connection). @defaultValue 65536 */
  maxResponseBytes?: number;
  /** Certificates trusted for https besides the system store (a private CA, or a test's). */
  ca?: string | string[];
  network?: NetworkPolicy;
  /** The attempt's clock, for an HTTP-date `Retry-After`. @defaultValue new Date() */
  now?: Date;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;
const USER_AGENT = 'Stockade-Notify/1';

/** `Retry-After` in ms from `now`: delay-seconds or an HTTP-date; null when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: Date): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return null;
  const text = v.trim();
  if (/^[0-9]{1,9}$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now.getTime());
}

/** Sorts an HTTP status: 2xx delivered; 408, 429 and 5xx worth retrying; 3xx (never followed) and other 4xx permanent. */
export function classifyStatus(status: number, headers: IncomingMessage['headers'], body: string, now: Date): DeliveryResult {
  if (status >= 200 && status < 300) return { outcome: 'delivered', status };
  const detail = detailText(`HTTP ${status} ${body}`);
  if (status >= 300 && status < 400) {
    return permanent('redirect', detailText(`HTTP ${status} to ${hostOf(headers.location)}; redirects are not followed`), status);
  }
  if (status === 408 || status === 429 || status >= 500) return retryable('http-status', detail, status, parseRetryAfter(headers['retry-after'], now));
  return permanent('http-status', detail, status);
}

function hostOf(location: string | undefined): string {
  if (!location) return 'nowhere';
  try {
    return new URL(location).host || 'a relative location';
  } catch {
    return 'an unreadable location';
  }
}

/** Sorts a socket-level error into the result of the attempt. */
export function classifyNetworkError(err: NodeJS.ErrnoException): DeliveryResult {
  if (err instanceof AddressRefusedError) return permanent('address-refused', detailText(err.message));
  const code = err.code ?? '';
  const text = detailText(`${code} ${err.message}`);
  if (code === 'ESTK_TIMEOUT') return retryable('timeout', text);
  if (isTlsErrorCode(code)) return retryable('tls', text);
  return retryable('network', text);
}

/**
 * POSTs `body` to `url` once and reports the outcome as a value: no redirect is followed, the
 * answer is read up to `maxResponseBytes`, and the whole attempt is bounded by `timeoutMs`.
 */
export function postOnce(url: string, body: string, headers: OutgoingHttpHeaders, o: HttpDeliveryOptions = {}): Promise<DeliveryResult> {
  const u = new URL(url);
  const network = o.network ?? {};
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  if (isIP(host) !== 0) {
    // Literal addresses skip `lookup`, so the policy is applied here.
    const why = refusedAddress(host, network);
    if (why) return Promise.resolve(permanent('address-refused', why));
  }
  const payload = Buffer.from(body, 'utf8');
  const maxBytes = o.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<DeliveryResult>((resolve) => {
    let settled = false;
    const finish = (r: DeliveryResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(r);
    };
    const req = request(u, {
      method: 'POST',
      agent: false,
      lookup: policyLookup(network) as never,
      ...(u.protocol === 'https:' && o.ca !== undefined ? { ca: o.ca } : {}),
      headers: { 'content-type': 'application/json', 'content-length': payload.length, 'user-agent': USER_AGENT, ...headers },
    });
    const timer = setTimeout(() => {
      finish(classifyNetworkError(Object.assign(new Error(`no complete answer within ${o.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`), { code: 'ESTK_TIMEOUT' })));
    }, o.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    req.on('error', (err) => finish(classifyNetworkError(err)));
    req.on('response', (res) => {
      // A 2xx status line is the receiver's word that it has the message; its body adds nothing.
      if ((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300) return finish({ outcome: 'delivered', status: res.statusCode! });
      const chunks: Buffer[] = [];
      let bytes = 0;
      const done = (): void => finish(classifyStatus(res.statusCode ?? 0, res.headers, Buffer.concat(chunks).toString('utf8'), o.now ?? new Date()));
      res.on('data', (chunk: Buffer) => {
        if (bytes >= maxBytes) return;
        chunks.push(chunk.subarray(0, maxBytes - bytes));
        bytes += chunk.length;
        // Enough to judge the answer: stop reading rather than take whatever the receiver sends.
        if (bytes >= maxBytes) done();
      });
      res.on('end', done);
      res.on('error', (err) => finish(classifyNetworkError(err)));
    });
    req.end(payload);
  });
}
