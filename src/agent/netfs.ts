import { endianness } from 'node:os';
import type { NetProtocol } from '../telemetry/types.ts';
import { formatIPv6Groups } from '../net/ipv6.ts';

/** TCP states by the number /proc/net/tcp prints (include/net/tcp_states.h). */
const TCP_STATES: Record<number, string> = {
  1: 'ESTABLISHED',
  2: 'SYN_SENT',
  3: 'SYN_RECV',
  4: 'FIN_WAIT1',
  5: 'FIN_WAIT2',
  6: 'TIME_WAIT',
  7: 'CLOSE',
  8: 'CLOSE_WAIT',
  9: 'LAST_ACK',
  10: 'LISTEN',
  11: 'CLOSING',
  12: 'NEW_SYN_RECV',
};

/** One socket line of /proc/net/{tcp,tcp6,udp,udp6}. */
export interface NetEntry {
  protocol: NetProtocol;
  state: string;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** The socket's owner uid. */
  uid: number;
  /** The socket inode, matched against `/proc/<pid>/fd/* -> socket:[inode]`; 0 when no process holds it (TIME_WAIT). */
  inode: number;
}

const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * The kernel prints each 32-bit word of an address as the CPU holds it (`%08X` of a `__be32`),
 * so on a little-endian machine the four bytes of every word come out reversed.
 */
function wordBytes(hex8: string, out: number[]): void {
  const v = Number.parseInt(hex8, 16);
  const b = [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
  out.push(...(LITTLE_ENDIAN ? b.reverse() : b));
}

/** Decodes the hex address of /proc/net (8 hex digits for IPv4, 32 for IPv6) to its text form. */
export function decodeProcAddress(hex: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < hex.length; i += 8) wordBytes(hex.slice(i, i + 8), bytes);
  return bytes.length === 4 ? bytes.join('.') : formatIPv6(bytes);
}

/**
 * RFC 5952 text of 16 address bytes: lower case, no leading zeros, the longest run of two or
 * more zero groups (the first on a tie) as `::`, and an IPv4-mapped address in dotted form.
 */
export function formatIPv6(bytes: readonly number[]): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `::ffff:${bytes.slice(12).join('.')}`;
  return formatIPv6Groups(groups);
}

/** Parses one /proc/net table; lines that do not have the expected columns are skipped. */
export function parseNetTable(text: string, protocol: NetProtocol): NetEntry[] {
  const out: NetEntry[] = [];
  const udp = protocol.startsWith('udp');
  const addrHex = protocol.endsWith('6') ? 32 : 8;
  const endpoint = new RegExp(`^([0-9A-Fa-f]{${addrHex}}):([0-9A-Fa-f]{4})$`);
  for (const line of text.split('\n').slice(1)) {
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode …
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const local = endpoint.exec(f[1]!);
    const remote = endpoint.exec(f[2]!);
    const st = Number.parseInt(f[3]!, 16);
    const uid = Number(f[7]);
    const inode = Number(f[9]);
    if (!local || !remote || !Number.isInteger(uid) || !Number.isInteger(inode)) continue;
    const state = udp ? (st === 7 ? 'UNCONN' : st === 1 ? 'ESTABLISHED' : (TCP_STATES[st] ?? `0x${f[3]}`)) : (TCP_STATES[st] ?? `0x${f[3]}`);
    out.push({
      protocol,
      state,
      localAddress: decodeProcAddress(local[1]!),
      localPort: Number.parseInt(local[2]!, 16),
      remoteAddress: decodeProcAddress(remote[1]!),
      remotePort: Number.parseInt(remote[2]!, 16),
      uid,
      inode,
    });
  }
  return out;
}
