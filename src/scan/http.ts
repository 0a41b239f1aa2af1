import { connect as tlsConnect } from 'node:tls';
import { Conn, closeSocket, readSocket } from './conn.ts';
import { type HttpFacts, escapePrintable } from './items.ts';
import { PROBE_CIPHERS, type Endpoint, type ProbeContext } from './tls-probe.ts';

/** Ports that get the HTTP probe when they are silent on connect. */
export const DEFAULT_HTTP_PORTS: readonly number[] = [80, 81, 443, 591, 3000, 5000, 8000, 8008, 8080, 8081, 8088, 8443, 8888, 9000, 9443];

/** Most bytes of an HTTP response head read. */
const MAX_HEAD_BYTES = 8192;
/** Longest status line or Server value kept. */
const MAX_FIELD_CHARS = 256;

/** The probe: `HEAD / HTTP/1.0`, with a Host header when the target is a name (virtual hosts answer by name). */
export function headRequest(hostname: string | null): string {
  return `HEAD / HTTP/1.0\r\n${hostname ? `Host: ${hostname}\r\n` : ''}\r\n`;
}

/** The status line and Server header of a response head; `null` if it is not HTTP. */
export function parseHttpHead(data: Buffer): HttpFacts | null {
  const text = data.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const lines = (end >= 0 ? text.slice(0, end) : text).split(/\r?\n/);
  const status = lines[0] ?? '';
  if (!/^HTTP\/\d(\.\d)? \d{3}( |$)/.test(status)) return null;
  const serverLine = lines.slice(1).find((l) => /^server:/i.test(l));
  const server = serverLine?.slice(serverLine.indexOf(':') + 1).trim();
  const esc = (s: string): string => escapePrintable(Buffer.from(s.slice(0, MAX_FIELD_CHARS), 'latin1'));
  return { status: esc(status), ...(server ? { server: esc(server) } : {}) };
}

const headDone = (d: Buffer): boolean => d.includes('\r\n\r\n');

/** Sends the HEAD probe on `conn` (a silent connection already open) or on a new one, over TLS when `overTls`; closes it. */
export async function httpProbe(pc: ProbeContext, ep: Endpoint, o: { conn?: Conn; overTls?: boolean } = {}): Promise<HttpFacts | null> {
  let conn = o.conn;
  if (!conn) {
    const opened = await Conn.open(pc.conn, ep.address, ep.port);
    if (opened.state !== 'open') return null;
    conn = opened.conn;
  }
  if (!o.overTls) {
    try {
      conn.write(headRequest(ep.hostname));
      const r = await conn.read({ timeoutMs: pc.probeTimeoutMs, maxBytes: MAX_HEAD_BYTES, done: headDone });
      return parseHttpHead(r.data);
    } finally {
      await conn.close();
    }
  }
  const socket = tlsConnect({
    socket: conn.socket,
    host: ep.address,
    ...(ep.hostname ? { servername: ep.hostname } : {}),
    minVersion: 'TLSv1',
    maxVersion: 'TLSv1.3',
    ciphers: PROBE_CIPHERS,
    rejectUnauthorized: false,
    minDHSize: 1,
  });
  socket.on('error', () => {});
  try {
    const secure = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), pc.probeTimeoutMs);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        resolve(true);
      });
      socket.once('close', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (!secure) return null;
    socket.write(headRequest(ep.hostname));
    const r = await readSocket(socket, { timeoutMs: pc.probeTimeoutMs, maxBytes: MAX_HEAD_BYTES, done: headDone });
    return parseHttpHead(r.data);
  } finally {
    await closeSocket(socket, pc.conn.closeWaitMs);
    conn.socket.destroy();
  }
}
