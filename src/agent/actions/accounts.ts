import type { HostRoot } from '../host-root.ts';
import { type ActionResult, describeRun, failed, runDetails, runTool, succeeded } from './result.ts';

/** Names usermod accepts and that can never be read as an option (no leading `-`). */
const ACCOUNT = /^[a-z_][a-z0-9_.-]{0,31}\$?$/i;

/** What each account action asks of usermod. */
const USERMOD_FLAGS = {
  'lock-account': ['-L'],
  'unlock-account': ['-U'],
  // Day 1 after the epoch is long past: the account is expired from now on.
  'expire-account': ['-e', '1'],
  // An empty date clears the expiry field.
  'unexpire-account': ['-e', ''],
} as const;

/** The local account actions. */
export type AccountAction = keyof typeof USERMOD_FLAGS;

/**
 * Locks, unlocks, expires or un-expires a local account with the distribution's `usermod
 * --root <hostRoot>` (which edits the root's /etc/shadow under its lock), and reports usermod's
 * exit status and output as they are. Locking (`!` before the hash) refuses password logins
 * only; expiring refuses every login through PAM, SSH keys included.
 */
export async function accountAction(
  root: HostRoot,
  action: AccountAction,
  args: { account: unknown },
  o: { usermod?: string; timeoutMs?: number } = {},
): Promise<ActionResult> {
  const { account } = args;
  if (typeof account !== 'string' || !ACCOUNT.test(account)) return failed(`refused: ${JSON.stringify(account)} is not a local account name`);
  const argv = ['--root', root.dir, ...USERMOD_FLAGS[action], '--', account];
  const r = await runTool(o.usermod ?? 'usermod', argv, { timeoutMs: o.timeoutMs ?? 60_000 });
  const details = { account, action, run: runDetails(r) };
  return r.exitCode === 0 ? succeeded(describeRun(r), details) : failed(describeRun(r), details);
}
