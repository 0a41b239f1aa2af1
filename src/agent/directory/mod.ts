/**
 * Active Directory over LDAP for the identity product: a collector (users, groups, privileged
 * membership) into snapshots, the `account-change` items between two snapshots, the findings of
 * one snapshot, and the `disable-account` / `reset-credentials` commands. README.md has the
 * configuration and the rights the bind account needs.
 */
export { type DirectoryConfig, type ResolvedDirectoryConfig, resolveDirectoryConfig } from './config.ts';
export { DirectoryConnection, type RootDse, resultName } from './connection.ts';
export {
  collectSnapshot,
  type CollectOptions,
  type CollectStats,
  type DirectoryAccount,
  type DirectoryGroup,
  type DirectorySnapshot,
  type PrivilegedGroup,
  type PrivilegedMember,
} from './snapshot.ts';
export { PRIVILEGED_GROUPS, resolvePrivileged } from './privileged.ts';
export { type DirectoryModification, diffSnapshots } from './diff.ts';
export { type DirectoryFinding, type DirectoryFindingKind, directoryFindings, FINDING_KINDS, type FindingSettings } from './findings.ts';
export { DIRECTORY_ACTIONS, type DirectoryAction, disableAccount, resetCredentials, runDirectoryCommand } from './commands.ts';
export { dateToFiletime, decodeSid, decodeUac, encodeSid, filetimeToIso, type UacFlag, UAC_FLAGS } from './codec.ts';

import { resolveDirectoryConfig, type DirectoryConfig } from './config.ts';
import { DirectoryConnection } from './connection.ts';
import { collectSnapshot, type CollectOptions, type CollectStats, type DirectorySnapshot } from './snapshot.ts';

/** Connects, collects one snapshot and disconnects: the collector's whole run. */
export async function collectDirectory(config: DirectoryConfig, options: CollectOptions = {}): Promise<{ snapshot: DirectorySnapshot; stats: CollectStats }> {
  const conn = await DirectoryConnection.open(await resolveDirectoryConfig(config));
  try {
    return await collectSnapshot(conn, options);
  } finally {
    await conn.close();
  }
}
