import { createSocket } from 'node:dgram';
import { webcrypto } from 'node:crypto';
import { type Server, type Socket, createServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { type TlsOptions, createServer as createTlsServer } from 'node:tls';
import * as x509 from '../../src/pki/x509.ts';

/** Listeners, certificates and a DNS server that the scan tests start on loopback and stop in `finally`. */

const DAY_MS = 86_400_000;
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface KeyPair {
  certPem: string;
  keyPem: string;
  der: Buffer;
}

async function exportKey(keys: CryptoKeyPair): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
}

function rsa(bits: number): RsaHashedKeyGenParams {
  return { name: 'RSASSA-PKCS1-v1_5', modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
}

/** A test CA: EC P-256, self-signed, ten days. */
export async function makeCa(cn = 'Stockade scan test CA'): Promise<{ cert: x509.X509Certificate; keys: CryptoKeyPair; pem: string }> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${cn}`,
    keys,
    signingAlgorithm: EC,
    serialNumber: '0a01',
    notBefore: new Date(Date.now() - DAY_MS),
    notAfter: new Date(Date.now() + 10 * DAY_MS),
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  });
  return { cert, keys, pem: cert.toString('pem') };
}

/** A server certificate issued by `ca` for `names` (DNS names and IPs), with the validity and key asked for. */
export async function issueLeaf(
  ca: { cert: x509.X509Certificate; keys: CryptoKeyPair },
  o: { cn: string; names: string[]; notBefore: Date; notAfter: Date; serial: string; rsaBits?: number },
): Promise<KeyPair> {
  const alg = o.rsaBits ? rsa(o.rsaBits) : EC;
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${o.cn}, O=Stockade Tests`,
    issuer: ca.cert.subject,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: EC,
    serialNumber: o.serial,
    notBefore: o.notBefore,
    notAfter: o.notAfter,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.SubjectAlternativeNameExtension(
        o.names.map((n) => (/^[0-9.:]+$/.test(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n })),
      ),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await exportKey(keys), der: Buffer.from(cert.rawData) };
}

/** A self-signed certificate with an RSA key of `bits`. */
export async function selfSigned(o: { cn: string; bits: number; serial: string; notBefore: Date; notAfter: Date }): Promise<KeyPair> {
  const keys = (await webcrypto.subtle.generateKey(rsa(o.bits), true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${o.cn}`,
    keys,
    signingAlgorithm: rsa(o.bits),
    serialNumber: o.serial,
    notBefore: o.notBefore,
    notAfter: o.notAfter,
  });
  return { certPem: cert.toString('pem'), keyPem: await exportKey(keys), der: Buffer.from(cert.rawData) };
}

export interface Listener {
  port: number;
  host: string;
  /** Connections accepted so far. */
  accepted: number;
  /** Most connections open at one time. */
  maxOpen: number;
  close(): Promise<void>;
}

/**
 * Wraps a server: counts accepted connections and the most open at once. A connection counts as
 * open from 'connection' until its 'end' (our FIN seen) or 'close', whichever comes first.
 */
export async function listen(server: Server, host = '127.0.0.1'): Promise<Listener> {
  const sockets = new Set<Socket>();
  let open = 0;
  const l: Listener = {
    port: 0,
    host,
    accepted: 0,
    maxOpen: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    l.accepted++;
    open++;
    l.maxOpen = Math.max(l.maxOpen, open);
    let counted = true;
    const done = (): void => {
      if (counted) open--;
      counted = false;
    };
    s.on('error', () => {});
    s.prependListener('end', done);
    s.once('close', () => {
      done();
      sockets.delete(s);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  l.port = (server.address() as { port: number }).port;
  return l;
}

/** A plain TCP service that says `banner` first and then waits for the client to close. */
export function bannerServer(banner: string): Server {
  return createServer((s) => s.write(banner));
}

/** An HTTP server answering every request with 200 and the given Server header. */
export function httpServer(serverHeader: string): Server {
  return createHttpServer((req, res) => {
    res.setHeader('Server', serverHeader);
    res.end(req.method === 'HEAD' ? undefined : 'ok');
  }) as unknown as Server;
}

/** A TLS server with `pair` and `options` (versions, ciphers) that closes each connection after the handshake's first byte of data. */
export function tlsServer(pair: KeyPair, options: TlsOptions = {}): Server {
  const server = createTlsServer({ cert: pair.certPem, key: pair.keyPem, ...options }, (s) => {
    s.on('error', () => {});
    s.on('data', () => {});
  });
  server.on('tlsClientError', () => {});
  return server as unknown as Server;
}

/** A port on `host` with nothing listening (bound once, then released). */
export async function closedPort(host = '127.0.0.1'): Promise<number> {
  const l = await listen(createServer(), host);
  await l.close();
  return l.port;
}

/**
 * A small authoritative DNS server on loopback UDP: A and AAAA answers from `records` (which the
 * test may change between queries), NXDOMAIN for names it does not know. Counts the queries.
 */
export async function dnsServer(records: Map<string, string[]>): Promise<{ server: string; queries: string[]; close(): Promise<void> }> {
  const sock = createSocket('udp4');
  const queries: string[] = [];
  sock.on('message', (msg, rinfo) => {
    if (msg.length < 12) return;
    const labels: string[] = [];
    let p = 12;
    while (p < msg.length && msg[p] !== 0) {
      const len = msg[p]!;
      labels.push(msg.subarray(p + 1, p + 1 + len).toString('ascii'));
      p += 1 + len;
    }
    const question = msg.subarray(12, p + 5);
    const qtype = msg.readUInt16BE(p + 1);
    const name = labels.join('.').toLowerCase();
    queries.push(`${name}/${qtype === 1 ? 'A' : qtype === 28 ? 'AAAA' : qtype}`);
    const known = records.get(name);
    const answers = (known ?? []).filter((a) => (qtype === 1 ? !a.includes(':') : qtype === 28 ? a.includes(':') : false));
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0);
    header.writeUInt16BE(0x8400 | (known ? 0 : 3), 2); // response, authoritative, NOERROR or NXDOMAIN
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const rrs = answers.map((a) => {
      const rdata = a.includes(':') ? ipv6Bytes(a) : Buffer.from(a.split('.').map(Number));
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question
      rr.writeUInt16BE(qtype, 2);
      rr.writeUInt16BE(1, 4);
      rr.writeUInt32BE(0, 6); // TTL 0: nothing may cache this answer
      rr.writeUInt16BE(rdata.length, 10);
      return Buffer.concat([rr, rdata]);
    });
    sock.send(Buffer.concat([header, question, ...rrs]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
  return {
    server: `127.0.0.1:${sock.address().port}`,
    queries,
    close: () => new Promise<void>((resolve) => sock.close(() => resolve())),
  };
}

function ipv6Bytes(a: string): Buffer {
  const [head, tail] = a.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  for (const [i, g] of groups.entries()) b.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  return b;
}
