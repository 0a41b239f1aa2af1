/**
 * The host side of the Stockade agent for Linux: collectors that read a host root (`/` or a
 * prepared folder), the state folder and disk spool that make restarts and outages lose and
 * repeat nothing, the scheduler and back-off, and the actions that change the host with the
 * distribution's own tools. The run loop and the ingress protocol are wired elsewhere.
 */
export { HostRoot, isGone, listHostDir, readHostText } from './host-root.ts';
export type { AccountChangeItem, AccountChangeKind, ConnectionItem, NetProtocol, ProcessItem } from '../telemetry/types.ts';

export { ProcessCollector, type ProcessCollectorOptions, type ProcessCollectorState, type ProcessScanStats } from './processes.ts';
export { clockTicksPerSecond, decodeCmdline, parseBootTime, parseStat, parseStatusUid, type ProcStat, startedAtIso } from './procfs.ts';
export { ExeHasher, type HashStats } from './exe-hash.ts';
export { UserNames } from './users.ts';

export { ConnectionCollector, type ConnectionCollectorState, type ListeningService, listeningServices } from './connections.ts';
export { decodeProcAddress, formatIPv6, type NetEntry, parseNetTable } from './netfs.ts';

export {
  type GroupEntry,
  type PasswdEntry,
  type PasswordStatus,
  parseGroup,
  parsePasswd,
  parseShadow,
  passwordStatus,
  type ShadowEntry,
} from './accounts/files.ts';
export { readSudoers, type SudoersPolicy, type SudoersSource, type SudoRule, type SudoSubject, sudoGrant, sudoGroups } from './accounts/sudoers.ts';
export { type AuthorizedKey, keyFingerprint, parseAuthorizedKeys } from './accounts/ssh-keys.ts';
export { type IdentitySnapshot, type LocalAccount, type LocalGroup, takeIdentitySnapshot } from './accounts/snapshot.ts';
export { diffIdentity, type LocalFinding, localFindings, PRIVILEGED_GROUPS } from './accounts/diff.ts';

export { StateDir, writeFileAtomic } from './state.ts';
export { Spool, type SpoolEntry, type SpoolOptions, type SpoolStats } from './spool.ts';
export { jitteredDelayMs, type ScheduledTask, Scheduler, type SchedulerOptions, type Timers } from './scheduler.ts';
export { Backoff, type BackoffOptions, parseRetryAfterMs } from './backoff.ts';

export { type ActionResult, describeRun, failed, runTool, succeeded, type ToolRun } from './actions/result.ts';
export { type KillProcessOptions, killProcess } from './actions/kill-process.ts';
export {
  type IngressEndpoint,
  ISOLATION_TABLE,
  isolateHost,
  isolationRuleset,
  isolationState,
  type IsolationOptions,
  releaseHost,
} from './actions/isolation.ts';
export { type AccountAction, accountAction } from './actions/accounts.ts';
export { collectEvidence, type EvidenceResult } from './actions/evidence.ts';
