import { isIP } from 'node:net';
import { createTransport } from 'nodemailer';
import { type NetworkPolicy, policyLookup, refusedAddress } from './network.ts';
import { type DeliveryResult, detailText, isTlsErrorCode, permanent, retryable } from './outcome.ts';
import type { RenderedEmail } from './render.ts';
import type { EmailSettings } from './settings.ts';
import { DELIVERY_HEADER } from './signing.ts';

/** Options of one e-mail attempt. */
export interface EmailAttempt {
  deliveryId: string;
  /** Certificates trusted for the STARTTLS handshake instead of the system store (a private CA, or a test's). */
  ca?: string | string[];
  /** Each of: connecting, the greeting and TLS upgrade, any one SMTP reply. @defaultValue 10000 */
  timeoutMs?: number;
  network?: NetworkPolicy;
  /** The name this side gives in EHLO. @defaultValue 'stockade' */
  clientName?: string;
}

interface SmtpError extends Error {
  code?: string;
  /** The socket's own code under nodemailer's (`UNABLE_TO_VERIFY_LEAF_SIGNATURE` under `ESOCKET`). */
  originalCode?: string;
  command?: string;
  response?: string;
  responseCode?: number;
  permanent?: boolean;
}

/** Resolves the server's name once, under the network policy; the connection goes to the address checked. */
function resolveChecked(host: string, policy: NetworkPolicy): Promise<{ address: string } | { refused: string } | { error: NodeJS.ErrnoException }> {
  if (isIP(host) !== 0) {
    const why = refusedAddress(host, policy);
    return Promise.resolve(why ? { refused: why } : { address: host });
  }
  return new Promise((resolve) => {
    policyLookup(policy)(host, {}, (err, address) => {
      if (err) resolve(err.code === 'ESTK_ADDRESS_REFUSED' ? { refused: err.message } : { error: err });
      else resolve({ address: address as string });
    });
  });
}

/**
 * Sends one e-mail over SMTP with STARTTLS required (a server that does not offer it gets
 * nothing, not even the login), the certificate checked against `ca` or the system store, and
 * AUTH. The Message-ID derives from the delivery id, so a receiving system can tell a retry from
 * a second alert.
 */
export async function sendEmail(settings: EmailSettings, message: RenderedEmail, a: EmailAttempt): Promise<DeliveryResult> {
  const policy = a.network ?? {};
  const resolved = await resolveChecked(settings.host, policy);
  if ('refused' in resolved) return permanent('address-refused', detailText(resolved.refused));
  if ('error' in resolved) return retryable('network', detailText(`${resolved.error.code ?? ''} ${resolved.error.message}`));
  const timeoutMs = a.timeoutMs ?? 10_000;
  const transport = createTransport({
    host: resolved.address,
    port: settings.port,
    secure: false,
    requireTLS: true,
    name: a.clientName ?? 'stockade',
    auth: { user: settings.user, pass: settings.password },
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    tls: {
      // The certificate is checked against the configured name, not the address we connect to.
      servername: isIP(settings.host) === 0 ? settings.host : undefined,
      minVersion: 'TLSv1.2',
      ...(a.ca !== undefined ? { ca: a.ca } : {}),
    },
  });
  try {
    const info = await transport.sendMail({
      from: settings.from,
      to: settings.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
      messageId: `<${a.deliveryId}@stockade.notify>`,
      headers: { [DELIVERY_HEADER]: a.deliveryId },
      // The rendered HTML carries no remote content; refuse to inline files or URLs whatever it says.
      disableFileAccess: true,
      disableUrlAccess: true,
    });
    const rejected = (info.rejected ?? []).map(String);
    return { outcome: 'delivered', status: 250, ...(rejected.length ? { detail: detailText(`refused recipients: ${rejected.join(', ')}`) } : {}) };
  } catch (err) {
    return classifySmtpError(err as SmtpError);
  } finally {
    transport.close();
  }
}

/** Sorts an SMTP failure: 5xx replies are permanent, 4xx replies and connection faults are retried. */
export function classifySmtpError(err: SmtpError): DeliveryResult {
  const code = err.code ?? '';
  const reply = err.responseCode;
  const text = detailText(`${code}${err.command ? ` ${err.command}` : ''} ${err.response ?? err.message}`);
  if (code === 'ETLS') {
    // A reply to STARTTLS that is not 220: the server does not do TLS. Retrying would meet the
    // same server (or the same attacker stripping STARTTLS), so it is reported at once.
    if (err.response) return permanent('starttls-unavailable', text, reply ?? null);
    return retryable('tls', text);
  }
  if (code === 'ENOAUTH') return permanent('smtp-auth', text);
  if (reply !== undefined && reply >= 400) {
    const isPermanent = err.permanent ?? (reply >= 500 && reply !== 503);
    const reason = code === 'EAUTH' ? 'smtp-auth' : 'smtp-reply';
    return isPermanent ? permanent(reason, text, reply) : retryable(reason, text, reply);
  }
  if (code === 'ETIMEDOUT') return retryable('timeout', text);
  if (isTlsErrorCode(code) || isTlsErrorCode(err.originalCode ?? '')) return retryable('tls', detailText(`${err.originalCode ?? code} ${err.message}`));
  if (code === 'EENVELOPE' || code === 'EMESSAGE' || code === 'ECONFIG') return permanent('smtp-reply', text, reply ?? null);
  return retryable('network', text);
}
