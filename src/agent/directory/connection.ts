import type { ConnectionOptions } from 'node:tls';
import { isIP } from 'node:net';
import { type Change, Client, type Entry, type Filter, ResultCodeError } from 'ldapts';
import { StkError } from '../../errors.ts';
import { adDataCode, BIND_REASONS } from './codec.ts';
import type { ResolvedDirectoryConfig } from './config.ts';

/** RFC 4511 result code names, for errors and command output. */
const RESULT_NAMES: Record<number, string> = {
  0: 'success',
  1: 'operationsError',
  2: 'protocolError',
  3: 'timeLimitExceeded',
  4: 'sizeLimitExceeded',
  7: 'authMethodNotSupported',
  8: 'strongerAuthRequired',
  10: 'referral',
  11: 'adminLimitExceeded',
  12: 'unavailableCriticalExtension',
  13: 'confidentialityRequired',
  16: 'noSuchAttribute',
  17: 'undefinedAttributeType',
  19: 'constraintViolation',
  20: 'attributeOrValueExists',
  21: 'invalidAttributeSyntax',
  32: 'noSuchObject',
  34: 'invalidDNSyntax',
  49: 'invalidCredentials',
  50: 'insufficientAccessRights',
  51: 'busy',
  52: 'unavailable',
  53: 'unwillingToPerform',
  64: 'namingViolation',
  65: 'objectClassViolation',
  66: 'notAllowedOnNonLeaf',
  68: 'entryAlreadyExists',
  80: 'other',
};

/** The RFC 4511 name of an LDAP result code (`code-<n>` for one without a name here). */
export function resultName(code: number): string {
  return RESULT_NAMES[code] ?? `code-${code}`;
}

/** ldapts appends ` Code: 0x31` to the server's diagnostic message; the operator wants the message. */
function diagnosticOf(err: ResultCodeError): string {
  return err.message.replace(/\s*Code: 0x[0-9a-f]+\s*$/i, '').trim();
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);

function isTlsFailure(code: string): boolean {
  // Node's own TLS codes and OpenSSL's certificate verification codes.
  return /^ERR_(TLS|SSL)_/.test(code) || /CERT|SELF_SIGNED|UNABLE_TO_|HOSTNAME_MISMATCH/.test(code);
}

type Stage = 'connect' | 'starttls' | 'bind' | 'operation';

/** Turns what ldapts or the socket threw into a catalogue error; never carries the password. */
function convert(err: unknown, stage: Stage, config: ResolvedDirectoryConfig, extra: Record<string, unknown> = {}): StkError {
  if (err instanceof StkError) return err;
  const base = { url: config.url, ...extra };
  if (err instanceof ResultCodeError) {
    const diagnostic = diagnosticOf(err);
    const data = { ...base, resultCode: err.code, resultName: resultName(err.code), diagnostic };
    if (stage === 'starttls')
      return new StkError('STK_ERR_DIRECTORY_TLS', `the directory refused StartTLS: ${diagnostic}`, { ...data, reason: 'starttls-refused' }, { cause: err });
    if (stage === 'bind' || stage === 'connect') {
      const adCode = adDataCode(diagnostic);
      const reason = (adCode && BIND_REASONS[adCode]) ?? resultName(err.code);
      return new StkError(
        'STK_ERR_DIRECTORY_BIND',
        `the directory refused the bind of ${config.bindDn}: ${reason}`,
        { ...data, bindDn: config.bindDn, reason, adCode },
        { cause: err },
      );
    }
    return new StkError('STK_ERR_DIRECTORY_OPERATION', `the directory answered ${resultName(err.code)} (${err.code}): ${diagnostic}`, data, { cause: err });
  }
  const e = err as NodeJS.ErrnoException;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = e?.message ?? String(err);
  if (isTlsFailure(code)) {
    return new StkError(
      'STK_ERR_DIRECTORY_TLS',
      `TLS with the directory failed: ${message}`,
      { ...base, reason: code, verifyName: config.verifyName },
      { cause: err },
    );
  }
  if (NETWORK_CODES.has(code) || /Connection timeout|timed out|Connection closed|Socket error|socket hang up/i.test(message)) {
    return new StkError(
      'STK_ERR_DIRECTORY_UNREACHABLE',
      `the directory at ${config.url} could not be reached: ${message}`,
      { ...base, reason: code || message },
      { cause: err },
    );
  }
  return new StkError('STK_ERR_DIRECTORY_OPERATION', `directory ${stage} failed: ${message}`, { ...base, reason: code || message }, { cause: err });
}

/** The root DSE facts the collector uses. */
export interface RootDse {
  defaultNamingContext: string;
  dnsHostName: string | null;
  supportsPaging: boolean;
}

const PAGED_RESULTS_OID = '1.2.840.113556.1.4.319';

/** What a paged search returned, and how many pages it took. */
export interface SearchOutcome {
  entries: Entry[];
  pages: number;
}

/** Options of one search. */
export interface SearchSpec {
  filter: string | Filter;
  attributes: string[];
  /** @defaultValue sub */
  scope?: 'base' | 'one' | 'sub';
  /** Attributes returned as Buffers (binary: objectSid). */
  binary?: string[];
}

/** One bound LDAP session over TLS: searches (paged), base reads and modifications. */
export class DirectoryConnection {
  private constructor(
    private readonly client: Client,
    readonly config: ResolvedDirectoryConfig,
    readonly rootDse: RootDse,
  ) {}

  /**
   * Connects over LDAPS (or StartTLS), trusting only the configured CA and checking the server
   * name, then binds with the configured account. Throws `STK_ERR_DIRECTORY_TLS`, `_BIND` or
   * `_UNREACHABLE`; the password never leaves except inside TLS.
   */
  static async open(config: ResolvedDirectoryConfig): Promise<DirectoryConnection> {
    const tlsOptions: ConnectionOptions = {
      ca: config.ca,
      // The identity check uses servername when given, else host: an IP URL checks IP SANs.
      host: config.host,
      ...(isIP(config.verifyName) ? {} : { servername: config.verifyName }),
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    };
    const client = new Client({
      url: config.url,
      timeout: config.timeoutMs,
      connectTimeout: config.connectTimeoutMs,
      ...(config.startTls ? {} : { tlsOptions }),
    });
    let stage: Stage = 'connect';
    try {
      if (config.startTls) {
        stage = 'starttls';
        // A copy: ldapts writes the socket into the options object it is given.
        await client.startTLS({ ...tlsOptions });
      }
      stage = 'bind';
      await client.bind(config.bindDn, config.bindPassword);
      stage = 'operation';
      const { searchEntries } = await client.search('', {
        scope: 'base',
        filter: '(objectClass=*)',
        attributes: ['defaultNamingContext', 'dnsHostName', 'supportedControl'],
      });
      const dse = searchEntries[0];
      const naming = first(dse?.defaultNamingContext);
      if (!naming)
        throw new StkError('STK_ERR_DIRECTORY_OPERATION', 'the root DSE names no defaultNamingContext: is this an Active Directory DC?', { url: config.url });
      const rootDse: RootDse = {
        defaultNamingContext: naming,
        dnsHostName: first(dse?.dnsHostName) ?? null,
        supportsPaging: all(dse?.supportedControl).includes(PAGED_RESULTS_OID),
      };
      return new DirectoryConnection(client, config, rootDse);
    } catch (err) {
      await client.unbind().catch(() => {});
      throw convert(err, stage, config);
    }
  }

  /** A subtree (or `scope`) search, paged when the server supports it, references dropped. */
  async search(base: string, spec: SearchSpec): Promise<SearchOutcome> {
    const options = {
      scope: spec.scope ?? 'sub',
      filter: spec.filter,
      attributes: spec.attributes,
      explicitBufferAttributes: spec.binary ?? [],
    } as const;
    try {
      if (!this.rootDse.supportsPaging) {
        const { searchEntries } = await this.client.search(base, options);
        return { entries: searchEntries, pages: 1 };
      }
      const entries: Entry[] = [];
      let pages = 0;
      for await (const page of this.client.searchPaginated(base, { ...options, paged: { pageSize: this.config.pageSize } })) {
        pages++;
        for (const e of page.searchEntries) entries.push(e);
      }
      return { entries, pages };
    } catch (err) {
      throw convert(err, 'operation', this.config, { base });
    }
  }

  /** The entry at `dn` with `attributes`, or null when there is none (noSuchObject). */
  async read(dn: string, attributes: string[], binary: string[] = []): Promise<Entry | null> {
    try {
      const { searchEntries } = await this.client.search(dn, { scope: 'base', filter: '(objectClass=*)', attributes, explicitBufferAttributes: binary });
      return searchEntries[0] ?? null;
    } catch (err) {
      if (err instanceof ResultCodeError && err.code === 32) return null;
      throw convert(err, 'operation', this.config, { dn });
    }
  }

  /** Applies `changes` to `dn` in one LDAP modify; a refusal is `STK_ERR_DIRECTORY_OPERATION` with the result code. */
  async modify(dn: string, changes: Change[]): Promise<void> {
    try {
      await this.client.modify(dn, changes);
    } catch (err) {
      throw convert(err, 'operation', this.config, { dn });
    }
  }

  /** Unbinds and closes the connection; never throws. */
  async close(): Promise<void> {
    await this.client.unbind().catch(() => {});
  }
}

/** The first value of an attribute as ldapts returns it (string, string[] or absent). */
export function first(value: Entry[string] | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) {
    const v = value[0];
    return v === undefined ? undefined : typeof v === 'string' ? v : v.toString('utf8');
  }
  return typeof value === 'string' ? value : value.toString('utf8');
}

/** Every value of an attribute as strings. */
export function all(value: Entry[string] | undefined): string[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((v) => (typeof v === 'string' ? v : v.toString('utf8')));
}

/** The first value of a binary attribute (requested in `binary`) as a Buffer. */
export function firstBuffer(value: Entry[string] | undefined): Buffer | undefined {
  if (value === undefined) return undefined;
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  return typeof v === 'string' ? Buffer.from(v, 'latin1') : v;
}
