/**
 * The accounts the directory tests make on their Samba DC, each for one case, with samba-tool
 * and raw ldbmodify — the same tools an administrator would use.
 */
import type { DirectoryConfig } from '../../../src/agent/directory/mod.ts';
import type { SambaDc } from '../../helpers/samba.ts';

/** Password of every case account (meets Samba's default complexity policy). */
export const CASE_PASSWORD = 'Case-Passw0rd!42';
export const SVC_NAME = 'svc-stockade';
export const SVC_PASSWORD = 'Svc-Passw0rd!42';
export const MANAGED_OU = 'OU=Managed';

export const DAY_MS = 86_400_000;

/** The "Account Restrictions" property set (userAccountControl, pwdLastSet, accountExpires …) and the user class. */
const ACCOUNT_RESTRICTIONS = '4c164200-20c0-11d0-a768-00aa006e0529';
const USER_CLASS = 'bf967aba-0de6-11d0-a285-00aa003049e2';

/** The DN of a case account under OU=Managed. */
export const managedDn = (dc: SambaDc, name: string): string => `CN=${name},${MANAGED_OU},${dc.baseDn}`;

/** Creates a user under OU=Managed (or CN=Users with `ou: null`). */
export async function createUser(dc: SambaDc, name: string, o: { ou?: string | null; password?: string } = {}): Promise<void> {
  const ou = o.ou === undefined ? MANAGED_OU : o.ou;
  await dc.tool(['user', 'create', name, o.password ?? CASE_PASSWORD, ...(ou ? [`--userou=${ou}`] : [])]);
}

/** The SID Samba itself prints for an account: the oracle for our SID decoding. */
export async function sidOf(dc: SambaDc, name: string): Promise<string> {
  const out = await dc.tool(['user', 'show', name, '--attributes=objectSid']);
  const m = /objectSid: (S-1-[\d-]+)/.exec(out);
  if (!m) throw new Error(`no objectSid for ${name}: ${out}`);
  return m[1]!;
}

/** One LDIF change record replacing `attribute` of `dn`. */
export const replaceLdif = (dn: string, attribute: string, value: string): string =>
  `dn: ${dn}\nchangetype: modify\nreplace: ${attribute}\n${attribute}: ${value}\n`;

/** The OU for case accounts and the collector's bind account (a plain user in CN=Users). */
export async function seedBase(dc: SambaDc): Promise<void> {
  await dc.tool(['ou', 'add', MANAGED_OU]);
  await createUser(dc, SVC_NAME, { ou: null, password: SVC_PASSWORD });
}

/**
 * Lets the bind account write the Account Restrictions property set of user objects under
 * OU=Managed: the least privilege the commands need (README.md).
 */
export async function delegateCommands(dc: SambaDc): Promise<void> {
  const sid = await sidOf(dc, SVC_NAME);
  await dc.tool(['dsacl', 'set', `--objectdn=${MANAGED_OU},${dc.baseDn}`, `--sddl=(OA;CIIO;RPWP;${ACCOUNT_RESTRICTIONS};${USER_CLASS};${sid})`]);
}

/** A collector configuration for the DC, binding as the service account over LDAPS. */
export function configFor(dc: SambaDc, extra: Partial<DirectoryConfig> = {}): DirectoryConfig {
  return {
    url: dc.ldapsUrl,
    caFile: dc.caFile,
    tlsServerName: dc.hostName,
    bindDn: `CN=${SVC_NAME},CN=Users,${dc.baseDn}`,
    bindPassword: SVC_PASSWORD,
    actionBaseDn: `${MANAGED_OU},${dc.baseDn}`,
    timeoutMs: 60_000,
    connectTimeoutMs: 30_000,
    ...extra,
  };
}
