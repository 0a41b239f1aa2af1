import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { StkError } from '../errors.ts';
import { type HostRoot, isGone } from './host-root.ts';
import { type NetEntry, parseNetTable } from './netfs.ts';
import type { ConnectionItem, NetProtocol } from '../telemetry/types.ts';
import { UserNames } from './users.ts';

const PROTOCOLS: readonly NetProtocol[] = ['tcp', 'tcp6', 'udp', 'udp6'];
const SOCKET_LINK = /^socket:\[(\d+)\]$/;

/** A service that accepts traffic: a TCP listener or a bound, unconnected UDP socket. */
export interface ListeningService {
  protocol: NetProtocol;
  address: string;
  port: number;
  pid: number | null;
  exe: string | null;
  /** The owning process's comm. */
  name: string | null;
  user: string | null;
}

/** What the connection collector keeps between runs. */
export interface ConnectionCollectorState {
  version: 1;
  seen: string[];
}

/** The owning process of a socket, as a report shows it. */
interface Owner {
  pid: number;
  exe: string | null;
  name: string | null;
}

/**
 * The EDR connection collector: reads `<root>/proc/net/{tcp,tcp6,udp,udp6}` and maps each socket
 * to the process holding it through `/proc/<pid>/fd/* -> socket:[inode]`. `scan()` returns one
 * `connection` item per connection or listener not reported before (known by protocol and both
 * endpoints, so a connection that goes from SYN_SENT to ESTABLISHED is reported once).
 */
export class ConnectionCollector {
  readonly root: HostRoot;
  readonly #users: UserNames;
  #seen = new Set<string>();

  constructor(o: { root: HostRoot }) {
    this.root = o.root;
    this.#users = new UserNames(o.root);
  }

  /** Connections and listeners that appeared since the last scan (all of them on the first). */
  async scan(): Promise<ConnectionItem[]> {
    const entries = this.readTables();
    const current = new Set<string>();
    const fresh: NetEntry[] = [];
    for (const e of entries) {
      const key = `${e.protocol}|${e.localAddress}|${e.localPort}|${e.remoteAddress}|${e.remotePort}`;
      if (current.has(key)) continue;
      current.add(key);
      if (!this.#seen.has(key)) fresh.push(e);
    }
    // The walk over every process's descriptors is the costly part: only done for new sockets.
    const owners = await this.owners(new Set(fresh.map((e) => e.inode).filter((i) => i !== 0)));
    this.#seen = current;
    return fresh.map((e) => {
      const owner = owners.get(e.inode);
      return {
        kind: 'connection',
        protocol: e.protocol,
        state: e.state,
        localAddress: e.localAddress,
        localPort: e.localPort,
        remoteAddress: e.remoteAddress,
        remotePort: e.remotePort,
        pid: owner?.pid ?? null,
        exe: owner?.exe ?? null,
        // Inode 0 is a socket no process holds (TIME_WAIT, a half-open request): its uid column is 0, not root.
        user: e.inode === 0 ? null : (this.#users.nameOf(e.uid) ?? String(e.uid)),
      };
    });
  }

  /** The services listening now (TCP LISTEN, UDP bound and unconnected), each with its process. */
  async listening(): Promise<ListeningService[]> {
    const seen = new Set<string>();
    const found = this.readTables().filter((e) => {
      const listens = e.state === 'LISTEN' || (e.state === 'UNCONN' && e.localPort !== 0);
      const key = `${e.protocol}|${e.localAddress}|${e.localPort}`;
      if (!listens || seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    const owners = await this.owners(new Set(found.map((e) => e.inode).filter((i) => i !== 0)));
    return found.map((e) => {
      const owner = owners.get(e.inode);
      return {
        protocol: e.protocol,
        address: e.localAddress,
        port: e.localPort,
        pid: owner?.pid ?? null,
        exe: owner?.exe ?? null,
        name: owner?.name ?? null,
        user: this.#users.nameOf(e.uid) ?? String(e.uid),
      };
    });
  }

  /** Every socket line of the four tables; a table the kernel lacks (no IPv6) is skipped. */
  readTables(): NetEntry[] {
    const out: NetEntry[] = [];
    for (const protocol of PROTOCOLS) {
      const path = this.root.path(`/proc/net/${protocol}`);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        if (isGone(err)) continue;
        throw new StkError('STK_ERR_AGENT_HOST_UNREADABLE', `cannot read ${path}`, { path }, { cause: err });
      }
      out.push(...parseNetTable(text, protocol));
    }
    return out;
  }

  /**
   * inode → owning process for the wanted inodes. Processes are walked in pid order, so a socket
   * shared after fork (a pre-forking server) is given to the lowest pid, usually the parent; the
   * walk stops once every wanted inode is found.
   */
  async owners(wanted: ReadonlySet<number>): Promise<Map<number, Owner>> {
    const found = new Map<number, Owner>();
    if (wanted.size === 0) return found;
    const proc = this.root.path('/proc');
    let names: string[];
    try {
      names = readdirSync(proc);
    } catch (err) {
      throw new StkError('STK_ERR_AGENT_HOST_UNREADABLE', `cannot list ${proc}`, { path: proc }, { cause: err });
    }
    const pids = names
      .filter((n) => /^\d+$/.test(n))
      .map(Number)
      .sort((a, b) => a - b);
    let n = 0;
    for (const pid of pids) {
      if (++n % 64 === 0) await yieldLoop();
      let fds: string[];
      try {
        fds = readdirSync(`${proc}/${pid}/fd`);
      } catch {
        continue; // gone, or a kernel thread's fd folder we may not read
      }
      let owner: Owner | undefined;
      for (const fd of fds) {
        let link: string;
        try {
          link = readlinkSync(`${proc}/${pid}/fd/${fd}`);
        } catch {
          continue;
        }
        const m = SOCKET_LINK.exec(link);
        if (!m) continue;
        const inode = Number(m[1]);
        if (!wanted.has(inode) || found.has(inode)) continue;
        owner ??= {
          pid,
          exe: readOrNull(() => readlinkSync(`${proc}/${pid}/exe`)),
          name: readOrNull(() => readFileSync(`${proc}/${pid}/comm`, 'utf8').trimEnd()),
        };
        found.set(inode, owner);
      }
      if (found.size === wanted.size) break;
    }
    return found;
  }

  /** The state to save so a restarted agent reports no connection twice. */
  exportState(): ConnectionCollectorState {
    return { version: 1, seen: [...this.#seen] };
  }

  /** Loads a state saved by `exportState`; anything else is ignored. */
  importState(state: unknown): void {
    const s = state as Partial<ConnectionCollectorState> | null;
    if (s?.version === 1 && Array.isArray(s.seen)) this.#seen = new Set(s.seen.filter((k) => typeof k === 'string'));
  }
}

/** The services listening on the host now (for attack surface): a one-off ConnectionCollector.listening(). */
export function listeningServices(root: HostRoot): Promise<ListeningService[]> {
  return new ConnectionCollector({ root }).listening();
}

function readOrNull(read: () => string): string | null {
  try {
    return read();
  } catch {
    return null;
  }
}
