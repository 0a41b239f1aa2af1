import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { browserFixture } from '../dashboard/browser.ts';
import { apiCall, freshTenant, stockadeFixture } from '../dashboard/stack.ts';
import { oidcProvider } from './oidc-provider.ts';

/**
 * Single sign-on in the real browser (Debian's chromium) through a real OpenID Connect provider
 * started by the test: authorization code with PKCE, state and nonce checked, the provider's
 * groups mapped to Stockade roles, and a session bound to the user that was made on the way.
 */
const test = suite('people: single sign-on with OpenID Connect in a real browser');

type Stack = Awaited<ReturnType<typeof stockadeFixture>>;
let stack: Stack;
let idp: Awaited<ReturnType<typeof oidcProvider>>;
let browser: Awaited<ReturnType<typeof browserFixture>>;
let page: Page;
let configPath = '';
const tenant = freshTenant('sso');

test.before(async () => {
  stack = await stockadeFixture();
  try {
    idp = await oidcProvider({
      redirectUri: `${stack.base}/ui/sso/callback`,
      accounts: {
        'ana.lyst': { email: 'ana@example.test', name: 'Ana Lyst', groups: ['soc-analysts'] },
        outsider: { email: 'out@example.test', name: 'Out Sider', groups: ['marketing'] },
      },
    });
    configPath = join(stack.dataDir, 'oidc.json');
    await writeFile(
      configPath,
      JSON.stringify({
        issuer: idp.issuer,
        clientId: idp.clientId,
        clientSecret: idp.clientSecret,
        redirectUri: `${stack.base}/ui/sso/callback`,
        allowInsecure: true,
        roles: [{ claim: 'groups', value: 'soc-analysts', role: 'msp-analyst', tenants: [tenant] }],
      }),
      { mode: 0o600 },
    );
    assert.is((await apiCall(stack.base, stack.adminKey, 'POST', '/tenants', { id: tenant, name: 'SSO Customer' })).status, 201);
    browser = await browserFixture();
    page = browser.context.pages()[0] ?? (await browser.newPage());
  } catch (err) {
    console.error('sso suite could not start:', err);
    await idp?.close();
    await stack.close();
    throw err;
  }
});
test.after(async () => {
  await browser?.close();
  await idp?.close();
  await stack?.close();
  if (configPath) await rm(configPath, { force: true });
});

async function signInAtProvider(p: Page, login: string): Promise<void> {
  await p.goto(`${stack.base}/ui/sso/start`);
  await p.locator('input[name="login"]').fill(login);
  await p.locator('input[name="password"]').fill('any password');
  await p.getByRole('button', { name: 'Sign-in' }).click();
  await p.getByRole('button', { name: 'Continue' }).click();
}

test('a person of the soc-analysts group signs in through the provider and lands on the all-customers overview (an MSP role), as a user with the mapped role', async () => {
  await signInAtProvider(page, 'ana.lyst');
  await page.waitForURL(`${stack.base}/ui/overview`);
  const cookie = (await browser.context.cookies()).find((c) => c.name === 'stk_session');
  assert.ok(cookie?.httpOnly);
  const session = await page.evaluate(async () => (await fetch('/ui/session')).json());
  assert.is(session.principal.kind, 'user');
  assert.is(session.principal.name, 'Ana Lyst');
  assert.equal(session.principal.sso, { issuer: idp.issuer, subject: 'ana.lyst' });
  assert.is(session.breakGlass, false);
  const me = await page.evaluate(async () => (await fetch('/ui/api/me')).json());
  assert.equal(me.roles.tenants, [{ tenant, roles: ['msp-analyst'] }]);
  const alerts = await page.evaluate(async (t) => (await fetch(`/ui/api/tenants/${t}/alerts`)).status, tenant);
  assert.is(alerts, 200);
  // The user was made at the first sign-on, with the provider's subject; the audit names it.
  const users = await apiCall(stack.base, stack.adminKey, 'GET', '/users');
  const ana = users.body.items.find((u: any) => u.email === 'ana@example.test');
  assert.equal(ana.sso, { issuer: idp.issuer, subject: 'ana.lyst' });
  const access = await apiCall(stack.base, stack.adminKey, 'GET', `/tenants/${tenant}/audit?aggregateType=access`);
  assert.ok(
    access.body.items.some((x: any) => x.action === 'access.granted' && x.via === `sso:${idp.issuer}#ana.lyst`),
    JSON.stringify(access.body.items),
  );
});

test('a person the mapping gives no role is refused; a forged state or a missing flight is refused', async () => {
  const other = await browserFixture();
  try {
    const p = other.context.pages()[0] ?? (await other.newPage());
    await signInAtProvider(p, 'outsider');
    // The browser lands on the sign-in page, which says why, with the code.
    await p.waitForURL(/\/ui\/login\?error=STK_ERR_FORBIDDEN/);
    await p.getByText('gives you no role on this install').waitFor();
    assert.match(await p.content(), /STK_ERR_FORBIDDEN/);
    assert.is(
      (await other.context.cookies()).find((c) => c.name === 'stk_session'),
      undefined,
    );
  } finally {
    await other.close();
  }
  const start = await fetch(`${stack.base}/ui/sso/start`, { redirect: 'manual' });
  assert.is(start.status, 303);
  const flight = (start.headers.get('set-cookie') ?? '').split(';')[0]!;
  const forged = await fetch(`${stack.base}/ui/sso/callback?code=abc&state=forged`, { headers: { cookie: flight }, redirect: 'manual' });
  assert.is(forged.status, 401);
  assert.is((await forged.json()).error.code, 'STK_ERR_SSO_FAILED');
  const none = await fetch(`${stack.base}/ui/sso/callback?code=abc&state=x`, { redirect: 'manual' });
  assert.is((await none.json()).error.code, 'STK_ERR_SSO_FAILED');
});

test.run();
