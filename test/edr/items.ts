/** Telemetry items for the EDR and identity tests, in the shapes of src/telemetry/types.ts. */
import type { AccountChangeItem, ConnectionItem, ProcessItem } from '../../src/agent/mod.ts';

export function processItem(pid: number, o: Partial<ProcessItem> = {}): ProcessItem {
  return {
    kind: 'process',
    pid,
    ppid: 1,
    uid: 0,
    user: 'root',
    exe: '/usr/bin/sleep',
    name: 'sleep',
    sha256: 'a'.repeat(64),
    cmdline: `sleep ${pid}`,
    cmdlineTruncated: false,
    startedAt: '2026-01-01T00:00:00.000Z',
    cwd: '/',
    parentExe: '/usr/lib/systemd/systemd',
    parentName: 'systemd',
    parentCmdline: '/sbin/init',
    ...o,
  };
}

export function connectionItem(port: number, o: Partial<ConnectionItem> = {}): ConnectionItem {
  return {
    kind: 'connection',
    protocol: 'tcp',
    state: 'ESTABLISHED',
    localAddress: '10.0.0.2',
    localPort: 40_000 + (port % 20_000),
    remoteAddress: '203.0.113.9',
    remotePort: port,
    pid: 1234,
    exe: '/usr/bin/curl',
    user: 'alice',
    ...o,
  };
}

export function accountItem(account: string, o: Partial<AccountChangeItem> = {}): AccountChangeItem {
  return {
    kind: 'account-change',
    source: 'local',
    change: 'added',
    account,
    uid: 1001,
    group: null,
    privileged: false,
    details: { shell: '/bin/bash' },
    ...o,
  };
}
