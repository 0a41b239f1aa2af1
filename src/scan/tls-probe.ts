import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { type CertificateFacts, certificateFacts } from './certificate.ts';
import { CIPHER_SUITES, WEAK_CLASSES, type WeakClass, suiteName, suitesOfClass, weakClassOf } from './cipher-suites.ts';
import { Conn, type ConnContext, closeSocket } from './conn.ts';
import { MAX_FLIGHT_BYTES, type ServerFlight, TLS_VERSIONS, type TlsVersion, buildClientHello, parseServerFlight } from './tls-hello.ts';

/** One cipher suite a server accepted at one protocol version; `weak` names its weak class. */
export interface TlsCipher {
  version: TlsVersion;
  cipher: string;
  weak?: WeakClass;
}

/** What a scan records of a port that speaks TLS. */
export interface TlsFacts {
  /** Protocol versions the server accepted, oldest first. */
  versions: TlsVersion[];
  /** The outcome of a default handshake (TLS 1.0–1.3 offered, node's DEFAULT suites at security level 0); null if node could not complete one. */
  negotiated: { version: TlsVersion; cipher: string } | null;
  /** Suites seen accepted, by version then name: each version's default, every weak one, and each TLS 1.3 suite. */
  ciphers: TlsCipher[];
  certificate?: CertificateFacts;
}

/** The endpoint being probed: the address we connect to and, for hostname targets, the name for SNI and Host. */
export interface Endpoint {
  address: string;
  port: number;
  hostname: string | null;
}

export interface ProbeContext {
  conn: ConnContext;
  /** Time one probe (a handshake, a hello's answer, an HTTP response) may take. */
  probeTimeoutMs: number;
  /** Enumerate weak suites per version and the TLS 1.3 suites (more connections). */
  cipherEnumeration: boolean;
}

/**
 * Node/OpenSSL 3 refuses TLS 1.0 and 1.1 in a client at its default security level (SHA-1 handshake
 * signatures need level 0), and node's default minVersion is TLS 1.2: every probe passes
 * `DEFAULT@SECLEVEL=0` and an explicit min/max version, so that it asks exactly one question.
 */
export const PROBE_CIPHERS = 'DEFAULT@SECLEVEL=0';
const TLS13_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];
const ALL_SUITES = CIPHER_SUITES.map((s) => s.code);
type LegacyVersion = Exclude<TlsVersion, 'TLSv1.3'>;
const LEGACY: LegacyVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2'];

interface Handshake {
  version: TlsVersion;
  cipher: string;
  certificate: Buffer | null;
}

/** One handshake with node's TLS client (certificate not verified: we record it, we do not trust it). */
export async function nodeHandshake(
  pc: ProbeContext,
  ep: Endpoint,
  o: { minVersion: TlsVersion; maxVersion: TlsVersion; ciphers?: string },
): Promise<Handshake | null> {
  const opened = await Conn.open(pc.conn, ep.address, ep.port);
  if (opened.state !== 'open') return null;
  const tcp = opened.conn.socket;
  let socket: TLSSocket;
  try {
    socket = tlsConnect({
      socket: tcp,
      host: ep.address,
      ...(ep.hostname ? { servername: ep.hostname } : {}),
      minVersion: o.minVersion,
      maxVersion: o.maxVersion,
      ciphers: o.ciphers ?? PROBE_CIPHERS,
      rejectUnauthorized: false,
      // Weak DH groups are something to report, not a reason to stop looking.
      minDHSize: 1,
    });
  } catch {
    // An option this OpenSSL build cannot do at all (a version it was built without).
    await closeSocket(tcp, pc.conn.closeWaitMs);
    return null;
  }
  socket.on('error', () => {});
  const result = await new Promise<Handshake | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), pc.probeTimeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const version = socket.getProtocol() as TlsVersion | null;
      const cipher = socket.getCipher();
      const cert = socket.getPeerX509Certificate();
      resolve(version && TLS_VERSIONS.includes(version) ? { version, cipher: cipher.standardName ?? cipher.name, certificate: cert ? cert.raw : null } : null);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
  await closeSocket(socket, pc.conn.closeWaitMs);
  tcp.destroy();
  return result;
}

/** Sends one raw ClientHello (on `conn` if given, else on a new connection) and reads the server's answer. */
export async function rawHello(
  pc: ProbeContext,
  ep: Endpoint,
  o: { version: LegacyVersion; suites: readonly number[]; wantCertificate: boolean; conn?: Conn },
): Promise<ServerFlight> {
  let conn = o.conn;
  if (!conn) {
    const opened = await Conn.open(pc.conn, ep.address, ep.port);
    if (opened.state !== 'open') return { kind: 'not-tls' };
    conn = opened.conn;
  }
  try {
    conn.write(buildClientHello({ version: o.version, suites: o.suites, serverName: ep.hostname }));
    const wantCertificate = o.wantCertificate;
    const r = await conn.read({
      timeoutMs: pc.probeTimeoutMs,
      maxBytes: MAX_FLIGHT_BYTES,
      done: (d) => {
        const f = parseServerFlight(d, { wantCertificate, ended: false });
        return f.kind !== 'need-more' && (f.kind !== 'hello' || f.complete);
      },
    });
    const flight = parseServerFlight(r.data, { wantCertificate, ended: true });
    return flight.kind === 'need-more' ? { kind: 'not-tls' } : flight;
  } finally {
    await conn.close();
  }
}

/** True when the answer to a ClientHello is TLS (a ServerHello, or an alert: a TLS server that did not like the offer). */
export function speaksTls(f: ServerFlight): boolean {
  return f.kind === 'hello' || f.kind === 'alert';
}

/**
 * Everything about a port already known to speak TLS (`detection`: the answer to a TLS 1.2 hello
 * offering every suite of the table). Versions: one node handshake per version, plus raw hellos
 * for TLS 1.0–1.2, which find versions whose only suites node no longer has. Ciphers: per
 * accepted version ≤ 1.2, each weak class is offered alone, and every suite the server picks is
 * recorded and taken out of the offer until it picks none; TLS 1.3 suites by node, one each.
 */
export async function analyseTls(pc: ProbeContext, ep: Endpoint, detection: ServerFlight): Promise<TlsFacts> {
  const accepted = new Set<TlsVersion>();
  const ciphers = new Map<string, TlsCipher>();
  const add = (version: TlsVersion, cipher: string): void => {
    const weak = weakClassOf(cipher);
    ciphers.set(`${version} ${cipher}`, { version, cipher, ...(weak ? { weak } : {}) });
  };
  let certificate: Buffer | null = null;

  const byDefault = await nodeHandshake(pc, ep, { minVersion: 'TLSv1', maxVersion: 'TLSv1.3' });
  if (byDefault) {
    accepted.add(byDefault.version);
    add(byDefault.version, byDefault.cipher);
    certificate = byDefault.certificate;
  }
  for (const version of TLS_VERSIONS) {
    if (version === byDefault?.version) continue;
    const h = await nodeHandshake(pc, ep, { minVersion: version, maxVersion: version });
    if (!h || h.version !== version) continue;
    accepted.add(version);
    add(version, h.cipher);
    certificate ??= h.certificate;
  }

  let rawCertificate: Buffer | null = detection.kind === 'hello' ? (detection.certificates[0] ?? null) : null;
  const rawAccepted = (f: ServerFlight, version: TlsVersion): boolean => f.kind === 'hello' && f.version === version;
  for (const version of LEGACY) {
    if (accepted.has(version)) continue;
    const f = rawAccepted(detection, version) ? detection : await rawHello(pc, ep, { version, suites: ALL_SUITES, wantCertificate: rawCertificate === null });
    if (f.kind !== 'hello' || !rawAccepted(f, version)) continue;
    accepted.add(version);
    add(version, suiteName(f.suite));
    rawCertificate ??= f.certificates[0] ?? null;
  }

  if (pc.cipherEnumeration) {
    for (const version of LEGACY) {
      if (!accepted.has(version)) continue;
      for (const weakClass of WEAK_CLASSES) {
        const offer = suitesOfClass(weakClass);
        while (offer.length) {
          const f = await rawHello(pc, ep, { version, suites: offer, wantCertificate: false });
          if (f.kind !== 'hello' || f.version !== version || !offer.includes(f.suite)) break;
          add(version, suiteName(f.suite));
          offer.splice(offer.indexOf(f.suite), 1);
        }
      }
    }
    if (accepted.has('TLSv1.3')) {
      for (const suite of TLS13_SUITES) {
        const h = await nodeHandshake(pc, ep, { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ciphers: suite });
        if (h && h.version === 'TLSv1.3') add('TLSv1.3', h.cipher);
      }
    }
  }

  const order = (v: TlsVersion): number => TLS_VERSIONS.indexOf(v);
  const der = certificate ?? rawCertificate;
  const facts = der ? certificateFacts(der) : null;
  return {
    versions: [...accepted].sort((a, b) => order(a) - order(b)),
    negotiated: byDefault ? { version: byDefault.version, cipher: byDefault.cipher } : null,
    ciphers: [...ciphers.values()].sort((a, b) => order(a.version) - order(b.version) || (a.cipher < b.cipher ? -1 : a.cipher > b.cipher ? 1 : 0)),
    ...(facts ? { certificate: facts } : {}),
  };
}
