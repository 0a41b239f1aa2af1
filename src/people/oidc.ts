import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { isRole, type Role, roleFitsScope } from '../api/permissions.ts';
import { StkError } from '../errors.ts';
import { isValidId } from '../ids.ts';
import { INSTALL_TENANT } from './install.ts';

/** One rule of the mapping from the identity provider's claims to Stockade roles. */
export interface RoleRule {
  /** Claim to read (a string or an array of strings), e.g. `groups`. */
  claim: string;
  /** Value the claim must have (or contain). */
  value: string;
  role: Role;
  /** Customers the role is held on; absent for an install-wide role. */
  tenants?: string[];
}

/** `<data>/oidc.json` (or the file named by STOCKADE_OIDC_CONFIG); mode 0600, it holds the client secret. */
export interface OidcConfig {
  issuer: string;
  clientId: string;
  /** Absent for a public client (PKCE alone). */
  clientSecret?: string;
  /** The address of `/ui/sso/callback` as the provider knows it (registered with the provider). */
  redirectUri: string;
  scopes?: string[];
  /** Roles from claims; a person with no matching rule is refused. */
  roles: RoleRule[];
  /** Plain HTTP to the provider: only for a provider on loopback (tests). @defaultValue false */
  allowInsecure?: boolean;
}

/** Reads the SSO configuration of a data folder; null when single sign-on is not set up. */
export function loadOidcConfig(dataDir: string, env: NodeJS.ProcessEnv = process.env): OidcConfig | null {
  const path = env.STOCKADE_OIDC_CONFIG || join(dataDir, 'oidc.json');
  if (!existsSync(path)) return null;
  let c: OidcConfig;
  try {
    c = JSON.parse(readFileSync(path, 'utf8')) as OidcConfig;
  } catch (err) {
    throw new StkError('STK_ERR_CONFIG', `${path} is not JSON`, { path }, { cause: err });
  }
  const bad = (what: string) => new StkError('STK_ERR_CONFIG', `${path}: ${what}`, { path });
  if (typeof c.issuer !== 'string' || typeof c.clientId !== 'string' || typeof c.redirectUri !== 'string')
    throw bad('issuer, clientId and redirectUri are required');
  if (!Array.isArray(c.roles)) throw bad('roles must be a list of {claim, value, role, tenants?}');
  for (const r of c.roles) {
    if (!isRole(r.role)) throw bad(`unknown role ${JSON.stringify(r.role)}`);
    if (r.tenants && !r.tenants.every((t) => isValidId('tenant', t))) throw bad(`a tenant id of ${r.role} is not valid`);
    if (!roleFitsScope(r.role, r.tenants ? 'tenant' : 'install')) throw bad(`${r.role} cannot be held ${r.tenants ? 'on customers' : 'install-wide'}`);
  }
  if (!c.allowInsecure && !c.issuer.startsWith('https://')) throw bad('the issuer must be https (allowInsecure is for a loopback provider in tests)');
  return c;
}

/** The roles the claims map to, by tenant (the install tenant for install-wide roles). */
export function rolesFromClaims(config: OidcConfig, claims: Record<string, unknown>): Record<string, Role[]> {
  const out: Record<string, Role[]> = {};
  for (const r of config.roles) {
    const v = claims[r.claim];
    const has = Array.isArray(v) ? v.includes(r.value) : v === r.value;
    if (!has) continue;
    for (const t of r.tenants ?? [INSTALL_TENANT]) out[t] = [...new Set([...(out[t] ?? []), r.role])];
  }
  return out;
}

/** The state a sign-in carries from start to callback (sealed into a short-lived cookie). */
export interface SsoFlight {
  state: string;
  nonce: string;
  verifier: string;
  until: number;
}

/** The OpenID Connect client: authorization code with PKCE (S256), state and nonce. */
export class SsoClient {
  #config: Promise<oidc.Configuration> | null = null;

  constructor(readonly settings: OidcConfig) {}

  #discover(): Promise<oidc.Configuration> {
    this.#config ??= oidc
      .discovery(new URL(this.settings.issuer), this.settings.clientId, this.settings.clientSecret, undefined, {
        ...(this.settings.allowInsecure ? { execute: [oidc.allowInsecureRequests] } : {}),
        timeout: 10,
      })
      .catch((err) => {
        this.#config = null;
        throw new StkError('STK_ERR_SSO_FAILED', 'the identity provider could not be reached', {}, { cause: err });
      });
    return this.#config;
  }

  /** Where to send the browser, and what to remember until it comes back. */
  async start(): Promise<{ url: string; flight: SsoFlight }> {
    const config = await this.#discover();
    const flight: SsoFlight = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      verifier: oidc.randomPKCECodeVerifier(),
      until: Date.now() + 10 * 60_000,
    };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.settings.redirectUri,
      scope: (this.settings.scopes ?? ['openid', 'email', 'profile']).join(' '),
      response_type: 'code',
      state: flight.state,
      nonce: flight.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(flight.verifier),
      code_challenge_method: 'S256',
    });
    return { url: url.href, flight };
  }

  /** Exchanges the code (state, nonce and PKCE checked); the ID token's claims. */
  async finish(callbackUrl: URL, flight: SsoFlight): Promise<Record<string, unknown> & { sub: string; iss: string }> {
    if (flight.until < Date.now()) throw new StkError('STK_ERR_SSO_FAILED', 'the sign-in took too long; start again');
    const config = await this.#discover();
    try {
      const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: flight.verifier,
        expectedState: flight.state,
        expectedNonce: flight.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims();
      if (!claims) throw new Error('no ID token');
      return claims as Record<string, unknown> & { sub: string; iss: string };
    } catch (err) {
      throw new StkError('STK_ERR_SSO_FAILED', 'the identity provider did not confirm the sign-in', {}, { cause: err });
    }
  }
}
