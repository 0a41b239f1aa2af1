/**
 * The telemetry items an agent sends (`kind` first): one definition, used by the agent's collectors,
 * the ingress's schemas, the read models and the detector.
 */

/** A process seen for the first time (a process start). */
export interface ProcessItem {
  kind: 'process';
  pid: number;
  ppid: number;
  uid: number;
  /** The name of `uid` in the host's /etc/passwd, else the uid in decimal (as `ps` shows it). */
  user: string;
  /** `/proc/<pid>/exe` as the kernel gives it (` (deleted)` kept); empty when the kernel does not say (zombie). */
  exe: string;
  /** The kernel's `comm` (at most 15 bytes). */
  name: string;
  sha256: string | null;
  cmdline: string;
  cmdlineTruncated: boolean;
  /** ISO time, to the clock tick. */
  startedAt: string;
  cwd: string | null;
  parentExe: string | null;
  parentName: string | null;
  parentCmdline: string | null;
}

/** The protocols of /proc/net the connection collector reads. */
export type NetProtocol = 'tcp' | 'tcp6' | 'udp' | 'udp6';

/** A connection or listener seen for the first time. */
export interface ConnectionItem {
  kind: 'connection';
  protocol: NetProtocol;
  /** The kernel's TCP state names as netstat shows them (`LISTEN`, `ESTABLISHED`, `TIME_WAIT`, …); `UNCONN` for an unconnected UDP socket. */
  state: string;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  pid: number | null;
  exe: string | null;
  user: string | null;
}

/** What changed between two identity snapshots. */
export type AccountChangeKind =
  | 'added'
  | 'removed'
  | 'modified'
  | 'group-member-added'
  | 'group-member-removed'
  | 'key-added'
  | 'key-removed'
  | 'sudo-added'
  | 'sudo-removed';

/**
 * A difference between two identity snapshots. The built-in directory rules expect `details` of an
 * attribute change as `{ attribute, added?: string[], removed?: string[] }` (`servicePrincipalName`
 * values, `userAccountControl` flag names such as `DONT_REQ_PREAUTH`), and of a new account its
 * attributes by name (`{ servicePrincipalName: [...], userAccountControl: [...] }`).
 */
export interface AccountChangeItem {
  kind: 'account-change';
  source: 'local' | 'directory';
  change: AccountChangeKind;
  account: string;
  uid: number | null;
  group: string | null;
  privileged: boolean;
  details: Record<string, unknown>;
}
