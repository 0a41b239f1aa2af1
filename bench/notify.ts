/**
 * Notification delivery latency on loopback: from "message ready" (a delivery and its channel in
 * hand) to "the receiver has it" (the request body, or the DATA of the message, fully received),
 * p50 and p99, one delivery at a time so no queueing is measured. Each beside a reference taken
 * in the same run: a bare HTTP POST of the same bytes (node http, fresh connection, no signing),
 * and a bare nodemailer send of the same message over the same STARTTLS + AUTH server.
 *
 * `node --import tsx bench/notify.ts`, or `npm run bench -- notify` once it is listed in bench/parts.ts.
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { createTransport } from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { newId } from '../src/ids.ts';
import { type ChannelConfig, type Delivery, attemptDelivery, parseChannelInput, renderEmail, renderWebhookBody } from '../src/notify/mod.ts';
import { testCa } from '../test/helpers/tls.ts';
import { hostileGroup } from '../test/notify/samples.ts';
import { percentile, report } from './util.ts';

const HTTP_N = 1_000;
const SMTP_N = 200;
const WARMUP = 20;
const BASE = 'https://stockade.example.com';
const SECRET = 'stk_whsec_bench-secret-0123456789abcdef0123';

const now = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Arrival times by the id the message carries, and a way to wait for one. */
function arrivals() {
  const seen = new Map<string, number>();
  const waiting = new Map<string, (t: number) => void>();
  return {
    arrived(id: string): void {
      const t = now();
      const w = waiting.get(id);
      if (w) {
        waiting.delete(id);
        w(t);
      } else seen.set(id, t);
    },
    when(id: string): Promise<number> {
      const t = seen.get(id);
      if (t !== undefined) {
        seen.delete(id);
        return Promise.resolve(t);
      }
      return new Promise((resolve) => waiting.set(id, resolve));
    },
  };
}

async function series(n: number, one: (i: number) => Promise<number>): Promise<number[]> {
  for (let i = 0; i < WARMUP; i++) await one(i);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await one(i));
  return out;
}

function print(label: string, ours: number[], refLabel: string, ref: number[]): void {
  for (const p of [50, 99]) report(`${label} p${p}`, percentile(ours, p), 'ms', { label: `${refLabel} p${p}`, value: percentile(ref, p) });
}

function barePost(url: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve());
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function benchWebhook(): Promise<void> {
  const got = arrivals();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.arrived(JSON.parse(Buffer.concat(chunks).toString('utf8')).deliveryId);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  try {
    const channel = parseChannelInput({ kind: 'webhook', name: 'bench', settings: { url, secret: SECRET } }, { allowLoopbackHttp: true }).channel;
    const transport = { dashboardBaseUrl: BASE, network: { allowLoopback: true } };
    const ours = await series(HTTP_N, async () => {
      const d: Delivery = { id: newId('dl_'), group: hostileGroup(), notifiedCount: 0 };
      const t0 = now();
      const r = await attemptDelivery(channel, d, new Date(), transport);
      if (r.outcome !== 'delivered') throw new Error(`webhook not delivered: ${JSON.stringify(r)}`);
      return (await got.when(d.id)) - t0;
    });
    const ref = await series(HTTP_N, async () => {
      const id = newId('dl_');
      const body = renderWebhookBody(hostileGroup(), { deliveryId: id, notifiedCount: 0, dashboardBaseUrl: BASE });
      const t0 = now();
      await barePost(url, body);
      return (await got.when(id)) - t0;
    });
    console.log(`  webhook: ${HTTP_N} deliveries one at a time (render, sign, policy lookup, POST) vs the same bytes POSTed bare`);
    print('webhook delivery latency', ours, 'bare POST', ref);
  } finally {
    server.close();
  }
}

async function benchEmail(): Promise<void> {
  const ca = await testCa();
  const cert = await ca.issueServer(['localhost', '127.0.0.1']);
  const got = arrivals();
  const server = new SMTPServer({
    secure: false,
    key: cert.keyPem,
    cert: cert.certPem,
    authOptional: false,
    disableReverseLookup: true,
    logger: false,
    onAuth: (auth, _s, cb) => cb(null, { user: auth.username }),
    onData(stream, _s, cb) {
      let head = '';
      stream.on('data', (c: Buffer) => {
        if (head.length < 4096) head += c.toString('latin1');
      });
      stream.on('end', () => {
        const id = /^Stockade-Delivery: (\S+)/im.exec(head)?.[1];
        if (id) got.arrived(id);
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  const settings = {
    host: 'localhost',
    port,
    startTls: 'required',
    user: 'bench',
    password: 'bench-password',
    from: 'stockade@example.com',
    to: ['soc@example.com'],
  };
  try {
    const channel: ChannelConfig = parseChannelInput({ kind: 'email', name: 'bench', settings }).channel;
    const transport = { dashboardBaseUrl: BASE, network: { allowLoopback: true }, ca: ca.certPem };
    const ours = await series(SMTP_N, async () => {
      const d: Delivery = { id: newId('dl_'), group: hostileGroup(), notifiedCount: 0 };
      const t0 = now();
      const r = await attemptDelivery(channel, d, new Date(), transport);
      if (r.outcome !== 'delivered') throw new Error(`mail not delivered: ${JSON.stringify(r)}`);
      return (await got.when(d.id)) - t0;
    });
    const ref = await series(SMTP_N, async () => {
      const id = newId('dl_');
      const m = renderEmail(hostileGroup(), { deliveryId: id, notifiedCount: 0, dashboardBaseUrl: BASE });
      const t0 = now();
      const bare = createTransport({
        host: '127.0.0.1',
        port,
        requireTLS: true,
        auth: { user: 'bench', pass: 'bench-password' },
        tls: { servername: 'localhost', ca: ca.certPem },
      });
      await bare.sendMail({ from: settings.from, to: settings.to, subject: m.subject, text: m.text, html: m.html, headers: { 'Stockade-Delivery': id } });
      bare.close();
      return (await got.when(id)) - t0;
    });
    console.log(`  e-mail: ${SMTP_N} deliveries one at a time over STARTTLS + AUTH, a fresh connection each, vs a bare nodemailer send of the same message`);
    print('e-mail delivery latency', ours, 'bare SMTP send', ref);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** The `notify` bench part. */
export async function benchNotify(): Promise<void> {
  await benchWebhook();
  await benchEmail();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchNotify();
  process.exit(0);
}
