import { AndFilter, Attribute, Change, type Entry, EqualityFilter, type Filter, OrFilter } from 'ldapts';
import { isStkError, StkError } from '../../errors.ts';
import type { ActionResult } from '../actions/result.ts';
import { decodeSid, decodeUac, encodeSid, UAC_FLAGS } from './codec.ts';
import { type DirectoryConfig, resolveDirectoryConfig } from './config.ts';
import { all, DirectoryConnection, first, firstBuffer } from './connection.ts';

/** The identity actions this module runs against the directory. */
export const DIRECTORY_ACTIONS = ['disable-account', 'reset-credentials'] as const;
export type DirectoryAction = (typeof DIRECTORY_ACTIONS)[number];

interface Target {
  dn: string;
  sid: string;
  samAccountName: string;
  kind: 'user' | 'computer';
  userAccountControl: number;
}

const ACCOUNT_MAX_CHARS = 256;

// Written out instead of a regex character class: the linter rightly flags control characters in regexes.
const hasControlCharacter = (s: string): boolean => [...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
const TARGET_ATTRIBUTES = ['objectSid', 'objectClass', 'sAMAccountName', 'userAccountControl', 'pwdLastSet'];

function refused(reason: string, output: string, details: Record<string, unknown> = {}): ActionResult {
  return { outcome: 'failed', output, details: { reason, ...details } };
}

/** The directory's refusal of a modification, as a failed result carrying its result code and message. */
function directoryRefused(err: StkError, what: string, target: Target): ActionResult {
  const { resultCode, resultName, diagnostic } = err.data as { resultCode?: number; resultName?: string; diagnostic?: string };
  return refused(
    'directory-refused',
    `${what} of ${target.samAccountName} (${target.dn}) refused by the directory: ${resultName ?? 'error'} (${resultCode ?? '?'}): ${diagnostic ?? err.message}`,
    { dn: target.dn, sid: target.sid, resultCode: resultCode ?? null, resultName: resultName ?? null, diagnostic: diagnostic ?? err.message },
  );
}

function targetOf(e: Entry): Target | null {
  const raw = firstBuffer(e.objectSid);
  const sid = raw ? decodeSid(raw) : null;
  if (!sid) return null;
  return {
    dn: e.dn,
    sid,
    samAccountName: first(e.sAMAccountName) ?? '',
    kind: all(e.objectClass).some((c) => c.toLowerCase() === 'computer') ? 'computer' : 'user',
    userAccountControl: Number(first(e.userAccountControl) ?? 0),
  };
}

/**
 * Finds the one account `account` names (sAMAccountName, userPrincipalName, string SID or DN) in
 * the domain, then asks the directory whether it lies under `actionBaseDn`, so DN spelling
 * (case, spaces, escapes) is the directory's to judge. Refusals are results, not throws.
 */
async function locate(conn: DirectoryConnection, account: unknown): Promise<{ target: Target } | { result: ActionResult }> {
  if (typeof account !== 'string' || account.length === 0 || account.length > ACCOUNT_MAX_CHARS || hasControlCharacter(account)) {
    return { result: refused('invalid-account', `account must be a name, UPN, SID or DN of at most ${ACCOUNT_MAX_CHARS} printable characters`) };
  }
  const actionBase = conn.config.actionBaseDn;
  if (!actionBase) return { result: refused('no-action-base', 'no actionBaseDn is configured for the directory: commands are refused', { account }) };

  const domain = conn.rootDse.defaultNamingContext;
  let entries: Entry[];
  const sidBytes = account.startsWith('S-1-') ? encodeSid(account) : null;
  if (account.includes('=')) {
    let e: Entry | null;
    try {
      e = await conn.read(account, TARGET_ATTRIBUTES, ['objectSid']);
    } catch (err) {
      if (!isStkError(err, 'STK_ERR_DIRECTORY_OPERATION')) throw err;
      return { result: refused('invalid-account', `${JSON.stringify(account)} is not a DN the directory accepts: ${err.message}`, { account, ...err.data }) };
    }
    entries = e && all(e.objectClass).some((c) => c.toLowerCase() === 'user') ? [e] : [];
  } else {
    const who: Filter = sidBytes
      ? new EqualityFilter({ attribute: 'objectSid', value: sidBytes })
      : new OrFilter({
          filters: [
            new EqualityFilter({ attribute: 'sAMAccountName', value: account }),
            new EqualityFilter({ attribute: 'userPrincipalName', value: account }),
          ],
        });
    const filter = new AndFilter({ filters: [new EqualityFilter({ attribute: 'objectClass', value: 'user' }), who] });
    entries = (await conn.search(domain, { filter, attributes: TARGET_ATTRIBUTES, binary: ['objectSid'] })).entries;
  }
  if (entries.length === 0) return { result: refused('unknown-account', `no account ${JSON.stringify(account)} in ${domain}`, { account }) };
  if (entries.length > 1) {
    return {
      result: refused('ambiguous-account', `${JSON.stringify(account)} names ${entries.length} accounts; give the SID or DN`, {
        account,
        dns: entries.map((e) => e.dn),
      }),
    };
  }
  const target = targetOf(entries[0]!);
  if (!target) return { result: refused('unknown-account', `the entry for ${JSON.stringify(account)} has no objectSid`, { account }) };

  const inside = await conn.search(actionBase, {
    filter: new EqualityFilter({ attribute: 'objectSid', value: encodeSid(target.sid)! }),
    attributes: ['1.1'],
  });
  if (inside.entries.length === 0) {
    return {
      result: refused('outside-base-dn', `${target.samAccountName} (${target.dn}) is outside the configured actionBaseDn ${actionBase}: not touched`, {
        account,
        dn: target.dn,
        sid: target.sid,
        actionBaseDn: actionBase,
      }),
    };
  }
  return { target };
}

const replace = (type: string, value: string): Change => new Change({ operation: 'replace', modification: new Attribute({ type, values: [value] }) });

/**
 * Sets ACCOUNTDISABLE (0x2) in the account's `userAccountControl` and reads it back. Already
 * disabled: succeeds without writing. Directory refusals and unknown or out-of-scope accounts are
 * failed results; connection faults throw.
 */
export async function disableAccount(conn: DirectoryConnection, account: unknown): Promise<ActionResult> {
  const found = await locate(conn, account);
  if ('result' in found) return found.result;
  const t = found.target;
  const base = { dn: t.dn, sid: t.sid, account: t.samAccountName };
  const before = t.userAccountControl;
  if (before & UAC_FLAGS.ACCOUNTDISABLE) {
    return {
      outcome: 'succeeded',
      output: `${t.samAccountName} (${t.dn}) was already disabled (userAccountControl ${before}); nothing written`,
      details: { ...base, changed: false, userAccountControl: { before, after: before } },
    };
  }
  // Replace, not delete-old/add-new: AD and Samba treat userAccountControl specially and accept
  // the pair even when the old value no longer matches, so it would not be a compare-and-swap.
  const wanted = before | UAC_FLAGS.ACCOUNTDISABLE;
  try {
    await conn.modify(t.dn, [replace('userAccountControl', String(wanted))]);
  } catch (err) {
    if (isStkError(err, 'STK_ERR_DIRECTORY_OPERATION')) return directoryRefused(err, 'disable-account', t);
    throw err;
  }
  const check = await conn.read(t.dn, ['userAccountControl']);
  const after = Number(first(check?.userAccountControl) ?? Number.NaN);
  const details = {
    ...base,
    changed: true,
    resultCode: 0,
    resultName: 'success',
    userAccountControl: { before, after },
    flags: Number.isNaN(after) ? [] : decodeUac(after),
  };
  if (!(after & UAC_FLAGS.ACCOUNTDISABLE)) {
    return {
      outcome: 'failed',
      output: `the directory accepted the change but ${t.samAccountName} still reads userAccountControl ${after}: not disabled`,
      details: { ...details, reason: 'not-confirmed' },
    };
  }
  return {
    outcome: 'succeeded',
    output: `disabled ${t.samAccountName} (${t.dn}): userAccountControl ${before} -> ${after}; the directory answered success (0) and reads back ACCOUNTDISABLE`,
    details,
  };
}

/**
 * Forces a password change at next logon (`pwdLastSet` = 0) and reads it back. Fails, after
 * writing, when DONT_EXPIRE_PASSWORD is set: AD does not force the change while that flag is on.
 * Computer accounts are refused (their passwords are the machine's to change).
 */
export async function resetCredentials(conn: DirectoryConnection, account: unknown): Promise<ActionResult> {
  const found = await locate(conn, account);
  if ('result' in found) return found.result;
  const t = found.target;
  if (t.kind !== 'user')
    return refused('not-a-user-account', `${t.samAccountName} is a computer account: reset-credentials acts on user accounts only`, { dn: t.dn, sid: t.sid });
  try {
    await conn.modify(t.dn, [replace('pwdLastSet', '0')]);
  } catch (err) {
    if (isStkError(err, 'STK_ERR_DIRECTORY_OPERATION')) return directoryRefused(err, 'reset-credentials', t);
    throw err;
  }
  const check = await conn.read(t.dn, ['pwdLastSet', 'userAccountControl']);
  const pwdLastSet = first(check?.pwdLastSet) ?? null;
  const uac = Number(first(check?.userAccountControl) ?? 0);
  const details = { dn: t.dn, sid: t.sid, account: t.samAccountName, resultCode: 0, resultName: 'success', pwdLastSet, userAccountControl: uac };
  if (pwdLastSet !== '0') {
    return {
      outcome: 'failed',
      output: `the directory accepted the change but ${t.samAccountName} reads pwdLastSet ${pwdLastSet}`,
      details: { ...details, reason: 'not-confirmed' },
    };
  }
  if (uac & UAC_FLAGS.DONT_EXPIRE_PASSWORD) {
    return {
      outcome: 'failed',
      output: `pwdLastSet of ${t.samAccountName} is now 0, but DONT_EXPIRE_PASSWORD is set, so the directory will not force a password change; clear that flag and run again`,
      details: { ...details, reason: 'password-never-expires' },
    };
  }
  return {
    outcome: 'succeeded',
    output: `${t.samAccountName} (${t.dn}) must change the password at next logon: pwdLastSet set to 0, the directory answered success (0) and reads back 0`,
    details,
  };
}

/**
 * Runs one identity action from its own connection and always answers a result: a fault
 * (unreachable, TLS, bind) becomes `failed` with the catalogue error in `details.error`.
 */
export async function runDirectoryCommand(config: DirectoryConfig, action: string, args: unknown): Promise<ActionResult> {
  if (!(DIRECTORY_ACTIONS as readonly string[]).includes(action)) return refused('unknown-action', `${action} is not a directory action`);
  const account = typeof args === 'object' && args !== null ? (args as { account?: unknown }).account : undefined;
  let conn: DirectoryConnection | null = null;
  try {
    conn = await DirectoryConnection.open(await resolveDirectoryConfig(config));
    return action === 'disable-account' ? await disableAccount(conn, account) : await resetCredentials(conn, account);
  } catch (err) {
    const e = err instanceof StkError ? err : new StkError('STK_ERR_INTERNAL', (err as Error)?.message ?? String(err), {}, { cause: err });
    return { outcome: 'failed', output: `${action} failed: ${e.message} (${e.code})`, details: { reason: 'error', error: e.toJSON() } };
  } finally {
    await conn?.close();
  }
}
