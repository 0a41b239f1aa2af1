import type { Server } from 'node:http';
import Provider from 'oidc-provider';
import { freePort } from '../../src/nats/server.ts';

/** People the test identity provider knows: login → claims. */
export type Accounts = Record<string, { email: string; name: string; groups: string[] }>;

/**
 * A real OpenID Connect provider (`oidc-provider`) on a free loopback port, with its development
 * sign-in pages (any password), one confidential client, PKCE required, and a `groups` claim in
 * the ID token.
 */
export async function oidcProvider(o: {
  redirectUri: string;
  accounts: Accounts;
}): Promise<{ issuer: string; clientId: string; clientSecret: string; close(): Promise<void> }> {
  // The provider announces its development defaults on the console; the test knows them.
  const quiet =
    (write: (...a: unknown[]) => void) =>
    (...a: unknown[]) => {
      if (typeof a[0] === 'string' && a[0].startsWith('oidc-provider')) return;
      write(...a);
    };
  const [warn, info] = [console.warn, console.info];
  console.warn = quiet(warn);
  console.info = quiet(info);
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = 'stockade-test';
  const clientSecret = 'test-secret-not-for-production-0123456789';
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [o.redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    claims: { openid: ['sub'], email: ['email'], profile: ['name', 'groups'] },
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    findAccount: async (_ctx: unknown, id: string) => {
      const a = o.accounts[id];
      if (!a) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, ...a }) };
    },
  } as never);
  (provider as unknown as { proxy: boolean }).proxy = false;
  const server: Server = await new Promise((resolve) => {
    const s = provider.listen(port, '127.0.0.1', () => resolve(s));
  });
  return {
    issuer,
    clientId,
    clientSecret,
    close: () =>
      new Promise<void>((resolve) => {
        console.warn = warn;
        console.info = info;
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
