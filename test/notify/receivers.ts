/**
 * Real receivers for the notification tests, started on loopback by the test: an HTTP(S) server
 * whose answers the test scripts, and an SMTP server (the `smtp-server` package) with STARTTLS and
 * AUTH whose replies the test scripts. Both record what reached them.
 */
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

/** A request as the receiver got it: the raw body bytes, before any parsing. */
export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
}

/** What the test's handler answers; `hold: true` never answers (a receiver that hangs). */
export type Answer = { status: number; headers?: Record<string, string>; body?: string; endless?: boolean } | { hold: true };

export interface HttpReceiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Answers the peer cut short while the receiver was still sending an endless answer. */
  cutShort: number;
  /** Resolves once an endless answer has ended, completed or cut short. */
  waitForAnswerClosed(timeoutMs?: number): Promise<void>;
  /** Resolves once `n` requests have arrived. */
  waitForRequests(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** An HTTP (or HTTPS with `tls`) server on `host`:free port; `answer` decides each response. */
export async function startHttpReceiver(
  answer: (req: ReceivedRequest, index: number) => Answer,
  o: { host?: string; tls?: { certPem: string; keyPem: string } } = {},
): Promise<HttpReceiver> {
  const host = o.host ?? '127.0.0.1';
  const requests: ReceivedRequest[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const sockets = new Set<Socket>();
  const state = { cutShort: 0 };
  const closeWaiters: Array<() => void> = [];
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: ReceivedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawBody: Buffer.concat(chunks) };
      requests.push(r);
      for (const w of [...waiters]) if (requests.length >= w.n) w.resolve();
      const a = answer(r, requests.length - 1);
      if ('hold' in a) return;
      res.writeHead(a.status, a.headers ?? {});
      if (!a.endless) return void res.end(a.body ?? '');
      // "Endless" is 64 MiB: a client that reads it all finishes, and the test sees the answer
      // completed instead of cut short.
      const chunk = Buffer.alloc(16 * 1024, 'x');
      let left = 4096;
      const pump = (): void => {
        let more = true;
        while (!res.destroyed && left > 0 && more) {
          left--;
          more = res.write(chunk);
        }
        if (res.destroyed) return;
        if (left === 0) return void res.end();
        res.once('drain', pump);
      };
      res.on('close', () => {
        if (left > 0) state.cutShort++;
        for (const w of [...closeWaiters]) w();
      });
      pump();
    });
  };
  const server: Server = o.tls ? createHttpsServer({ cert: o.tls.certPem, key: o.tls.keyPem }, onRequest) : createHttpServer(onRequest);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `${o.tls ? 'https' : 'http'}://${shownHost}:${port}/hook`,
    port,
    requests,
    get cutShort() {
      return state.cutShort;
    },
    waitForAnswerClosed(timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the answer did not end')), timeoutMs);
        closeWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    waitForRequests(n, timeoutMs = 10_000) {
      if (requests.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`receiver got ${requests.length} of ${n} requests`)), timeoutMs);
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** One SMTP session's facts as the server saw them. */
export interface SmtpEvent {
  step: 'auth' | 'mail' | 'data';
  secure: boolean;
  user: string | null;
}

export interface SmtpReceiver {
  port: number;
  /** Messages accepted (250 after DATA), parsed with mailparser. */
  messages: ParsedMail[];
  /** Raw bytes of each accepted message. */
  raw: Buffer[];
  /** Every AUTH, MAIL FROM and DATA that reached the server, accepted or not. */
  events: SmtpEvent[];
  close(): Promise<void>;
}

/**
 * A real SMTP server on 127.0.0.1 with AUTH required. With `tls` it offers STARTTLS and takes AUTH
 * only after it; without, it offers no STARTTLS and would take AUTH in clear (the server a client
 * must refuse). `replyToData(i)` scripts the reply to the i-th DATA: null accepts, a number
 * refuses with that code.
 */
export async function startSmtpReceiver(o: {
  tls: { certPem: string; keyPem: string } | null;
  users: Record<string, string>;
  replyToData?: (index: number) => number | null;
}): Promise<SmtpReceiver> {
  const messages: ParsedMail[] = [];
  const raw: Buffer[] = [];
  const events: SmtpEvent[] = [];
  let dataIndex = 0;
  const secureOf = (s: SMTPServerSession): boolean => Boolean(s.secure);
  const userOf = (s: SMTPServerSession): string | null => (typeof s.user === 'string' ? s.user : null);
  const server = new SMTPServer({
    secure: false,
    ...(o.tls ? { key: o.tls.keyPem, cert: o.tls.certPem } : { disabledCommands: ['STARTTLS'], allowInsecureAuth: true }),
    authOptional: false,
    disableReverseLookup: true,
    logger: false,
    onAuth(auth, session, cb) {
      events.push({ step: 'auth', secure: secureOf(session), user: auth.username ?? null });
      if (auth.username !== undefined && o.users[auth.username] === auth.password) return cb(null, { user: auth.username });
      cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onMailFrom(_address, session, cb) {
      events.push({ step: 'mail', secure: secureOf(session), user: userOf(session) });
      cb();
    },
    onData(stream, session, cb) {
      events.push({ step: 'data', secure: secureOf(session), user: userOf(session) });
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const code = o.replyToData?.(dataIndex++) ?? null;
        if (code !== null) return cb(Object.assign(new Error(code >= 500 ? 'Refused for good' : 'Try again later'), { responseCode: code }));
        const bytes = Buffer.concat(chunks);
        simpleParser(bytes).then(
          (parsed) => {
            raw.push(bytes);
            messages.push(parsed);
            cb();
          },
          (err: Error) => cb(err),
        );
      });
    },
  });
  server.on('error', () => {
    // Client-side aborts (a refused certificate, a closed socket) surface here; the tests assert
    // on what the server received instead.
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    messages,
    raw,
    events,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A loopback port with nothing listening on it (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = createHttpServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
