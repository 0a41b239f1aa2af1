import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { StkError } from '../../errors.ts';

/**
 * How the agent reaches the directory. The bind account needs no more than a plain domain user
 * to collect; the commands need write access to `userAccountControl` and `pwdLastSet` (AD's
 * "Account Restrictions" property set) on user objects under `actionBaseDn` — see README.md.
 */
export interface DirectoryConfig {
  /** `ldaps://host[:636]`, or `ldap://host[:389]` together with `startTls: true`. */
  url: string;
  /** Upgrade an `ldap://` connection with StartTLS before binding. @defaultValue false */
  startTls?: boolean;
  /** PEM file with the CA certificate(s) that sign the DC's certificate: the only trust anchors. */
  caFile: string;
  /** The name to verify in the DC's certificate when the URL names the DC otherwise (an IP address). */
  tlsServerName?: string;
  /** DN of the account the collector binds as (simple bind). */
  bindDn: string;
  bindPassword: string;
  /** Where users and groups are read. @defaultValue the root DSE's defaultNamingContext */
  searchBaseDn?: string;
  /** Commands act only on accounts under this DN; without it every command is refused. */
  actionBaseDn?: string;
  /** Entries per page of a paged search; AD's MaxPageSize is 1000. @defaultValue 500 */
  pageSize?: number;
  /** Longest wait for one LDAP operation. @defaultValue 30000 */
  timeoutMs?: number;
  /** Longest wait for the TCP and TLS connection. @defaultValue 10000 */
  connectTimeoutMs?: number;
  /** More groups to treat as privileged, by SID (`S-1-5-21-…-1105`) or sAMAccountName. */
  extraPrivilegedGroups?: string[];
}

/** A checked configuration with its defaults filled in and the CA read. */
export interface ResolvedDirectoryConfig {
  url: string;
  host: string;
  startTls: boolean;
  ca: Buffer;
  /** The name the certificate must carry: `tlsServerName`, else the URL's host. */
  verifyName: string;
  bindDn: string;
  bindPassword: string;
  searchBaseDn: string | null;
  actionBaseDn: string | null;
  pageSize: number;
  timeoutMs: number;
  connectTimeoutMs: number;
  extraPrivilegedGroups: string[];
}

function configError(field: string, message: string, cause?: unknown): StkError {
  return new StkError('STK_ERR_CONFIG', `directory ${field}: ${message}`, { field: `directory.${field}` }, cause === undefined ? undefined : { cause });
}

function positiveInt(value: number | undefined, field: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) throw configError(field, `must be an integer from 1 to ${max}`);
  return value;
}

/**
 * Checks a directory configuration and reads its CA file. Refuses (`STK_ERR_DIRECTORY_INSECURE`)
 * any setting that would send the password unencrypted; other mistakes are `STK_ERR_CONFIG`.
 */
export async function resolveDirectoryConfig(config: DirectoryConfig): Promise<ResolvedDirectoryConfig> {
  let url: URL;
  try {
    url = new URL(config.url);
  } catch (err) {
    throw configError('url', 'is not a URL', err);
  }
  const startTls = config.startTls === true;
  if (url.protocol === 'ldap:' && !startTls) {
    throw new StkError('STK_ERR_DIRECTORY_INSECURE', 'plain ldap:// without StartTLS would send the bind password in the clear; use ldaps:// or set startTls', {
      url: config.url,
    });
  }
  if (url.protocol !== 'ldap:' && url.protocol !== 'ldaps:') throw configError('url', 'must be ldaps://host or ldap://host with startTls');
  if (url.protocol === 'ldaps:' && startTls) throw configError('startTls', 'StartTLS applies to ldap:// URLs only; ldaps:// is TLS from the start');
  if ((url.pathname && url.pathname !== '/') || url.search || url.username || url.password) {
    throw configError('url', 'must name only scheme, host and port (the base DN is searchBaseDn)');
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!host) throw configError('url', 'has no host');
  if (!config.caFile) throw configError('caFile', 'is required: the CA that signs the directory certificate');
  let ca: Buffer;
  try {
    ca = await readFile(config.caFile);
  } catch (err) {
    throw configError('caFile', `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, err);
  }
  if (!ca.toString('latin1').includes('-----BEGIN CERTIFICATE-----')) throw configError('caFile', 'holds no PEM certificate');
  if (config.tlsServerName !== undefined && (!config.tlsServerName || isIP(config.tlsServerName))) {
    throw configError('tlsServerName', 'must be a DNS name');
  }
  if (!config.bindDn) throw configError('bindDn', 'is required');
  if (!config.bindPassword) throw configError('bindPassword', 'is required (an empty password would be an unauthenticated bind)');
  return {
    url: `${url.protocol}//${url.host}`,
    host,
    startTls,
    ca,
    verifyName: config.tlsServerName ?? host,
    bindDn: config.bindDn,
    bindPassword: config.bindPassword,
    searchBaseDn: config.searchBaseDn || null,
    actionBaseDn: config.actionBaseDn || null,
    pageSize: positiveInt(config.pageSize, 'pageSize', 500, 1000),
    timeoutMs: positiveInt(config.timeoutMs, 'timeoutMs', 30_000, 3_600_000),
    connectTimeoutMs: positiveInt(config.connectTimeoutMs, 'connectTimeoutMs', 10_000, 600_000),
    extraPrivilegedGroups: config.extraPrivilegedGroups ?? [],
  };
}
