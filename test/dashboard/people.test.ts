import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import type { AgentClient } from '../../src/agent/client.ts';
import { totpCode } from '../../src/people/totp.ts';
import { oidcProvider } from '../people/oidc-provider.ts';
import { browserFixture, isolatedContext } from './browser.ts';
import { apiCall, enrollAgent, stockadeFixture } from './stack.ts';
import { axe, overflowX, ready, SLOW_MS, settled } from './ui.ts';

/**
 * The people side of the console in a real browser (Debian's chromium) against a real Stockade, and
 * a real OpenID Connect provider for single sign-on: an invitation accepted, a password sign-in that
 * must set up TOTP first, a reused code refused, an analyst who sees only their customers, a
 * four-eyes request approved by a second person in another browser, a session ended from another
 * browser. The same run saves the pictures of the manual's "People and roles" chapter.
 */
const test = suite('dashboard: people, roles and four eyes in a real browser');
const IMAGES = resolve(import.meta.dirname, '../../docs/images');
const PASSWORD = 'violet-kestrel-harbour-42';

type Stack = Awaited<ReturnType<typeof stockadeFixture>>;
let stack: Stack;
let admin: Awaited<ReturnType<typeof browserFixture>>;
let page: Page;
let idp: Awaited<ReturnType<typeof oidcProvider>>;
let agent: AgentClient | null = null;
const others: Array<{ close(): Promise<void> }> = [];

const north = { id: 'north', name: 'Northwind Traders', host: 'north-web-01' };
const south = { id: 'south', name: 'Southridge Video' };
const east = { id: 'east', name: 'Eastwood Bank' };
/** Ana: MSP admin, invited in the browser, who must use MFA. Alex: an MSP analyst of north and south. */
const ana = { name: 'Ana Admin', email: 'ana@msp.example', secret: '', usedCode: '', page: null as Page | null };
const alex = { name: 'Alex Analyst', email: 'alex@msp.example', id: '', page: null as Page | null };

async function shot(p: Page, name: string): Promise<void> {
  await p.evaluate(() => document.getElementById('toasts')?.setAttribute('hidden', ''));
  await p.screenshot({ path: resolve(IMAGES, `people-${name}.png`) });
  await p.evaluate(() => document.getElementById('toasts')?.removeAttribute('hidden'));
}

async function api(method: string, path: string, body?: unknown) {
  const r = await apiCall(stack.base, stack.adminKey, method, path, body);
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** A person made through the API (invitation accepted with a password), with roles per customer. */
async function personByApi(name: string, email: string, tenants: Record<string, string[]>): Promise<string> {
  const u = await api('POST', '/users', { name, email });
  const accepted = await fetch(`${stack.base}/api/v1/invitations/accept`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: u.invitation.token, password: PASSWORD }),
  });
  assert.is(accepted.status, 200);
  for (const [tenant, roles] of Object.entries(tenants)) await api('PUT', `/tenants/${tenant}/access`, { userId: u.id, roles });
  return u.id as string;
}

/** Signs a person in with e-mail and password (and a code when asked) through the sign-in page. */
async function passwordSignIn(p: Page, email: string, code?: string): Promise<void> {
  await p.goto(`${stack.base}/ui/login`);
  await p.getByLabel('E-mail', { exact: true }).fill(email);
  await p.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await p.getByRole('button', { name: 'Sign in', exact: true }).click();
  if (code !== undefined) {
    await p.getByLabel('Code from your authenticator app', { exact: true }).fill(code);
    await p.getByRole('button', { name: 'Verify code', exact: true }).click();
  }
}

async function confirmDialog(p: Page, name: string): Promise<void> {
  const dialog = p.locator('dialog');
  await dialog.getByRole('button', { name, exact: true }).click();
  await dialog.waitFor({ state: 'detached' });
}

/** Runs axe at 1280 and 390 px on the page as it is (reloading it at each width); returns the violations. */
async function checkPage(p: Page, path: string, name: string | null): Promise<string[]> {
  const found: string[] = [];
  try {
    for (const width of [1280, 390]) {
      await p.setViewportSize({ width, height: width === 390 ? 844 : 800 });
      await p.goto(`${stack.base}${path}`);
      if (name) await ready(p, name);
      await p.waitForFunction(() => !document.querySelector('main [aria-busy="true"]') && !document.body.innerText.includes('Loading'), null, {
        timeout: SLOW_MS,
      });
      for (const v of await axe(p)) found.push(`${width}px ${path}: ${v}`);
      if (width === 390) {
        const x = await overflowX(p);
        if (x > 0) found.push(`${path} at 390 px: ${x} px sideways`);
      }
    }
  } finally {
    await p.setViewportSize({ width: 1280, height: 800 });
  }
  return found;
}

test.before(async () => {
  await mkdir(IMAGES, { recursive: true });
  stack = await stockadeFixture();
  try {
    idp = await oidcProvider({
      redirectUri: `${stack.base}/ui/sso/callback`,
      accounts: {
        'sam.soc': { email: 'sam@msp.example', name: 'Sam Soc', groups: ['soc'] },
        outsider: { email: 'out@example.test', name: 'Out Sider', groups: ['marketing'] },
      },
    });
    // Before any sign-in page asks: the install reads its single sign-on set-up once.
    await writeFile(
      join(stack.dataDir, 'oidc.json'),
      JSON.stringify({
        issuer: idp.issuer,
        clientId: idp.clientId,
        clientSecret: idp.clientSecret,
        redirectUri: `${stack.base}/ui/sso/callback`,
        allowInsecure: true,
        roles: [{ claim: 'groups', value: 'soc', role: 'msp-analyst', tenants: [north.id] }],
      }),
      { mode: 0o600 },
    );
    for (const t of [north, south, east]) await api('POST', '/tenants', { id: t.id, name: t.name });
    await api('PUT', `/tenants/${north.id}/products/edr`, { enabled: true });
    await settled(stack, north.id);
    const created = await api('POST', `/tenants/${north.id}/enroll-secret/rotate`);
    agent = await enrollAgent(stack, created.enrollSecret, north.host);
    // MSP admins must use MFA on this install; analysts need not.
    await api('PATCH', '/settings', { mfaForRoles: ['msp-admin'] });
    admin = await browserFixture();
    page = admin.context.pages()[0] ?? (await admin.newPage());
    await page.goto(`${stack.base}/ui/login`);
    await page.getByLabel('Admin key or tenant token', { exact: true }).fill(stack.adminKey);
    await page.getByRole('button', { name: 'Sign in with key' }).click();
    await page.waitForURL(/\/ui\/customers/);
  } catch (err) {
    console.error('people console suite could not start:', err);
    agent?.close();
    await admin?.close();
    await idp?.close();
    await stack?.close();
    throw err;
  }
});

test.after(async () => {
  agent?.close();
  for (const o of others) await o.close();
  await admin?.close();
  await idp?.close();
  await stack?.close();
});

test('invite in the people page → accept with a password (a weak one refused in a sentence) → sign in → set up TOTP first → sign out → sign in with TOTP; a reused code is refused', async () => {
  await page.goto(`${stack.base}/ui/people`);
  await ready(page, 'people');
  await page.getByLabel('Name', { exact: true }).fill(ana.name);
  await page.getByLabel('E-mail', { exact: true }).fill(ana.email);
  await page.getByRole('button', { name: 'Invite', exact: true }).click();
  const link = await page.locator('[data-invitation] input.secret').inputValue();
  assert.match(link, new RegExp(`^${stack.base}/ui/invite#stk_inv_`));
  await page.locator('tr', { hasText: ana.email }).locator('.badge', { hasText: 'invited' }).waitFor();
  await shot(page, 'invite');
  // Install-wide roles on the person's page.
  await page.getByRole('link', { name: ana.name }).click();
  await ready(page, 'people');
  await page.getByLabel(/^msp-admin/).check();
  await page.getByRole('button', { name: 'Save install-wide roles' }).click();
  await page.getByText('Install-wide roles saved').waitFor();

  const b = await isolatedContext();
  others.push(b);
  const p = b.page;
  ana.page = p;
  await p.goto(link);
  await p.getByLabel('New password', { exact: true }).fill('Password2024!');
  await p.getByLabel('Repeat the password', { exact: true }).fill('Password2024!');
  await p.getByRole('button', { name: 'Set password' }).click();
  const weak = p.locator('#accept-error');
  await weak.getByText('This password is one of the most common ones').waitFor();
  assert.ok((await weak.innerText()).includes('STK_ERR_PASSWORD_WEAK'));
  await shot(p, 'accept');
  await p.getByLabel('New password', { exact: true }).fill(PASSWORD);
  await p.getByLabel('Repeat the password', { exact: true }).fill(PASSWORD);
  await p.getByRole('button', { name: 'Set password' }).click();
  await p.getByRole('heading', { name: 'Your password is set' }).waitFor();
  assert.not.ok(p.url().includes('stk_inv_'), 'the spent invitation is out of the address');

  // Sign-in: the e-mail is filled in; MFA is required of MSP admins and Ana has none yet.
  await p.getByRole('link', { name: 'Go to sign-in' }).click();
  await p.locator('#email').waitFor();
  assert.is(await p.getByLabel('E-mail', { exact: true }).inputValue(), ana.email);
  await p.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await p.getByRole('button', { name: 'Sign in', exact: true }).click();
  await p.waitForURL(`${stack.base}/ui/account`);
  await p.getByRole('heading', { name: 'Set up a second factor' }).waitFor();
  // Nothing else is reachable meanwhile: the menu is empty and another page leads back here.
  assert.is(await p.locator('nav a').count(), 0);
  const elsewhere = await p.goto(`${stack.base}/ui/t/${north.id}/alerts`);
  assert.ok(elsewhere!.url().endsWith('/ui/account'), elsewhere!.url());
  await p.getByRole('button', { name: 'Set up an authenticator app' }).click();
  await p.locator('svg.qr').waitFor();
  const uri = await p.locator('#otpauth-uri').inputValue();
  assert.match(uri, /^otpauth:\/\/totp\/Stockade:/);
  // The key to type in by hand, under "Cannot scan it?" (closed: its text is there, not drawn).
  ana.secret = ((await p.locator('[data-totp-secret]').textContent()) ?? '').replace(/\s+/g, '');
  assert.match(ana.secret, /^[A-Z2-7]{32}$/);
  assert.ok(uri.includes(`secret=${ana.secret}`), 'the QR code and the typed key are the same secret');
  await shot(p, 'mfa-setup');
  ana.usedCode = totpCode(ana.secret, Date.now());
  await p.getByLabel('Code the app shows now', { exact: true }).fill(ana.usedCode);
  const [confirmed] = await Promise.all([p.waitForResponse(/\/me\/mfa\/totp\/confirm$/), p.getByRole('button', { name: 'Confirm', exact: true }).click()]);
  assert.is(confirmed.status(), 200, await confirmed.text());
  const codes = p.locator('[data-recovery-codes] ol.codes li');
  await codes.first().waitFor();
  assert.is(await codes.count(), 10);
  const again = p.getByRole('button', { name: 'Sign in again with a code' });
  assert.ok(await again.isDisabled(), 'not before the codes are saved');
  await shot(p, 'recovery-codes');
  await p.getByLabel('I have saved my recovery codes').check();
  await again.click();
  await p.waitForURL(/\/ui\/login$/);

  // The code that confirmed the set-up was used: it signs in nobody.
  await passwordSignIn(p, ana.email, ana.usedCode);
  const refused = p.locator('#signin-password-error');
  await refused.getByText('That code was used already').waitFor();
  assert.ok((await refused.innerText()).includes('STK_ERR_MFA_REPLAYED'));
  await shot(p, 'signin-code');
  // The next code does, and an MSP admin lands on the all-customers overview.
  await p.getByLabel('Code from your authenticator app', { exact: true }).fill(totpCode(ana.secret, Date.now() + 30_000));
  await p.getByRole('button', { name: 'Verify code', exact: true }).click();
  await p.waitForURL(`${stack.base}/ui/overview`);
  await ready(p, 'overview');
  for (const t of [north, south, east]) await p.locator(`[data-table="msp-overview"] tr[data-id="${t.id}"]`).waitFor();
  const session = await p.evaluate(async () => (await fetch('/ui/session')).json());
  assert.equal(session.principal.mfaPending, false);
  const users = await api('GET', `/users?q=${encodeURIComponent(ana.email)}`);
  assert.is(users.items[0].mfa, true);
  assert.ok(users.items[0].lastSignInAt, 'the last sign-in is kept');
});

test('an analyst sees only the customers assigned to them: the all-customers overview, the switcher, and addresses of the others', async () => {
  alex.id = await personByApi(alex.name, alex.email, { [north.id]: ['msp-analyst'], [south.id]: ['msp-analyst'] });
  await settled(stack, south.id);
  const c = await isolatedContext();
  others.push(c);
  alex.page = c.page;
  const p = c.page;
  await passwordSignIn(p, alex.email);
  await p.waitForURL(`${stack.base}/ui/overview`);
  await ready(p, 'overview');
  const rows = await p.locator('[data-table="msp-overview"] tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')));
  assert.equal(rows.sort(), [north.id, south.id]);
  const options = await p.locator('#switcher option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value).filter(Boolean));
  assert.equal(options.sort(), [north.id, south.id]);
  const main = await p.locator('main').innerText();
  assert.not.ok(main.includes(east.name), 'nothing of east on the page');
  // Sorting is in the address; the search finds one of theirs and never the other's.
  await p.getByLabel('Sort by', { exact: true }).selectOption('critical');
  await p.waitForURL(/sort=critical/);
  await p.getByLabel('Search', { exact: true }).fill('east');
  await p.getByRole('button', { name: 'Go' }).click();
  await p.getByText('No customer matches the search.').waitFor();
  const res = await p.goto(`${stack.base}/ui/t/${east.id}/overview`);
  assert.is(res!.status(), 404);
  // The menu offers what an analyst may use: no People, no sign-in policy.
  await p.goto(`${stack.base}/ui/overview`);
  await ready(p, 'overview');
  const nav = await p.locator('nav').innerText();
  assert.ok(nav.includes('All customers') && nav.includes('Fan-out'), nav);
  assert.not.ok(nav.includes('People') || nav.includes('Sign-in policy'), nav);
  assert.is((await p.goto(`${stack.base}/ui/people`))!.status(), 404);

  // The admin's view of every customer, for the manual.
  await page.goto(`${stack.base}/ui/overview`);
  await ready(page, 'overview');
  await shot(page, 'overview');
});

test('four eyes across two people in two browsers: the requester cannot approve, the approver approves, the command is issued', async () => {
  // The policy, set on the customer's approvals page.
  const ap = ana.page!;
  await ap.goto(`${stack.base}/ui/t/${north.id}/approvals`);
  await ready(ap, 'approvals');
  await ap.getByLabel(/^Isolate a host from the network/).check();
  await ap.getByRole('button', { name: 'Save policy' }).click();
  await ap.getByText('Four-eyes policy saved').waitFor();

  // Alex asks: the dispatch form answers "sent for approval", and nothing is sent to the agent.
  const p = alex.page!;
  await p.goto(`${stack.base}/ui/t/${north.id}/agents/${agent!.agentId}`);
  await ready(p, 'agents');
  await p.getByLabel('Command', { exact: true }).selectOption('isolate-host');
  await p.getByLabel('Reason (optional)', { exact: true }).fill('beaconing to a known C2');
  await p.getByRole('button', { name: 'Dispatch' }).click();
  await p.locator('[data-sent-for-approval]').waitFor();
  assert.equal((await agent!.commands()).length, 0);
  await p.getByRole('link', { name: 'See the request' }).click();
  await ready(p, 'approvals');
  const mine = p.locator('[data-table="approvals"] tbody tr').first();
  await mine.getByText('Waiting for a second person').waitFor();
  assert.is(await mine.getByRole('button', { name: 'Approve' }).count(), 0);
  // … and the server refuses the requester anyway, whatever the page shows.
  const approvalId = (await mine.getAttribute('data-id'))!;
  const self = await p.evaluate(
    async ([t, id]) => {
      const { csrf } = await (await fetch('/ui/session')).json();
      const r = await fetch(`/ui/api/tenants/${t}/approvals/${id}/approve`, { method: 'POST', headers: { 'x-csrf-token': csrf } });
      return [r.status, (await r.json()).error.code];
    },
    [north.id, approvalId],
  );
  assert.equal(self, [403, 'STK_ERR_APPROVAL_SELF']);

  // Ana sees it arrive live, and approves.
  await ap.locator('body[data-live="on"]').waitFor({ timeout: SLOW_MS });
  const row = ap.locator(`[data-table="approvals"] tr[data-id="${approvalId}"]`);
  await row.waitFor({ timeout: SLOW_MS });
  assert.ok((await row.innerText()).includes(alex.name), 'the requester is named');
  await ap.getByRole('heading', { name: 'Requests' }).scrollIntoViewIfNeeded();
  await ap.evaluate(() => document.querySelector('section[aria-label="Requests"]')?.scrollIntoView());
  await shot(ap, 'approvals');
  await row.getByRole('button', { name: 'Approve' }).click();
  await confirmDialog(ap, 'Approve');
  await ap.getByText('Approved: the action was issued').waitFor();
  // The command was issued to the agent, once; Alex's page follows live.
  const pulled = await agent!.commands();
  assert.equal(
    pulled.map((x) => x.action),
    ['isolate-host'],
  );
  await p.getByLabel('Status', { exact: true }).selectOption('executed');
  await p.locator(`tr[data-id="${approvalId}"]`).getByRole('link', { name: 'command issued' }).waitFor({ timeout: SLOW_MS });
});

test('ending a session from one browser signs the other browser out', async () => {
  const d = await isolatedContext();
  others.push(d);
  const other = d.page;
  await passwordSignIn(other, alex.email);
  await other.waitForURL(`${stack.base}/ui/overview`);
  await other.goto(`${stack.base}/ui/t/${north.id}/alerts`);
  await ready(other, 'alerts');
  await other.locator('body[data-live="on"]').waitFor({ timeout: SLOW_MS });

  const p = alex.page!;
  await p.goto(`${stack.base}/ui/overview`);
  await ready(p, 'overview');
  await p.getByRole('link', { name: alex.name }).click();
  await ready(p, 'account');
  const rows = p.locator('[data-table="sessions"] tbody tr');
  await p.waitForFunction(() => document.querySelectorAll('[data-table="sessions"] tbody tr').length === 2);
  await shot(p, 'account');
  await rows
    .filter({ hasNot: p.locator('.b-this-session') })
    .getByRole('button', { name: 'End session' })
    .click();
  await confirmDialog(p, 'End session');
  await p.getByText('Session ended').waitFor();
  // The other browser notices by itself (its live stream is refused) and goes to sign-in, back to where it was.
  await other.waitForURL(/\/ui\/login\?next=/, { timeout: 60_000 });
  assert.ok(decodeURIComponent(other.url()).includes(`/ui/t/${north.id}/alerts`), other.url());
  assert.is(await rows.count(), 1);
});

test('My account: an API token within the maximum lifetime, shown once, revoked', async () => {
  const p = alex.page!;
  await p.goto(`${stack.base}/ui/account`);
  await ready(p, 'account');
  assert.is(await p.getByLabel('Expires in (days)', { exact: true }).getAttribute('max'), '365');
  await p.getByLabel('Label', { exact: true }).fill('laptop scripts');
  await p.getByLabel('Expires in (days)', { exact: true }).fill('30');
  await p.getByRole('button', { name: 'Create token' }).click();
  const token = await p.locator('[data-once] input.secret').inputValue();
  const me = await apiCall(stack.base, token, 'GET', '/me');
  assert.is(me.body.name, alex.name);
  const row = p.locator('[data-table="my-tokens"] tr', { hasText: 'laptop scripts' });
  await row.getByRole('button', { name: 'Revoke' }).click();
  await confirmDialog(p, 'Revoke token');
  await row.waitFor({ state: 'detached' });
  assert.is((await apiCall(stack.base, token, 'GET', '/me')).status, 401);
});

test('fan-out: one command to several customers, with a result per customer', async () => {
  const p = ana.page!;
  await p.goto(`${stack.base}/ui/fanout`);
  await ready(p, 'fanout');
  await p.getByLabel('Command', { exact: true }).selectOption('ping');
  await p.getByLabel(new RegExp(`^${north.name}`)).check();
  await p.getByLabel(new RegExp(`^${south.name}`)).check();
  await p.getByRole('button', { name: 'Send to 2 customers' }).click();
  const results = p.locator('[data-table="fanout-results"]');
  await results.waitFor();
  assert.ok((await results.locator(`tr[data-id="${north.id}"]`).innerText()).includes('dispatched'));
  assert.ok((await results.locator(`tr[data-id="${south.id}"]`).innerText()).includes('no-agents'));
  await shot(p, 'fanout');
  assert.ok((await agent!.commands()).some((x) => x.action === 'ping'));
});

test('the audit page names people and how they came in, shows refused attempts, and links the export', async () => {
  // A refused attempt: an analyst may not change the customer's four-eyes policy.
  const refused = await alex.page!.evaluate(async (t) => {
    const { csrf } = await (await fetch('/ui/session')).json();
    const r = await fetch(`/ui/api/tenants/${t}/policy`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify({ fourEyes: [] }),
    });
    return r.status;
  }, north.id);
  assert.is(refused, 403);
  await page.goto(`${stack.base}/ui/t/${north.id}/audit`);
  await ready(page, 'audit');
  await page.locator('[data-table="audit"] tr', { hasText: alex.name }).first().waitFor();
  assert.ok((await page.locator('[data-table="audit"]').innerText()).includes('dashboard session'));
  const refusals = page.locator('[data-table="refusals"]');
  await refusals.locator('tr', { hasText: 'STK_ERR_FORBIDDEN' }).first().waitFor();
  assert.ok((await refusals.innerText()).includes('PUT'));
  const csv = await page.locator('a', { hasText: 'CSV' }).first().getAttribute('href');
  const exported = await page.evaluate(async (href) => (await fetch(href!)).text(), csv);
  assert.ok(exported.includes('refused') && exported.includes('STK_ERR_FORBIDDEN'));
  await shot(page, 'audit');
  await page.goto(`${stack.base}/ui/t/${north.id}/access`);
  await ready(page, 'access');
  await page.locator('[data-table="access"] tr', { hasText: alex.name }).waitFor();
  await shot(page, 'access');
});

test('single sign-on from the sign-in page through a real OpenID Connect provider; a person with no role is told so', async () => {
  const e = await isolatedContext();
  others.push(e);
  const p = e.page;
  await p.goto(`${stack.base}/ui/login`);
  await shot(p, 'signin');
  await p.getByRole('link', { name: 'Sign in with single sign-on' }).click();
  await p.locator('input[name="login"]').fill('sam.soc');
  await p.locator('input[name="password"]').fill('any password');
  await p.getByRole('button', { name: 'Sign-in' }).click();
  await p.getByRole('button', { name: 'Continue' }).click();
  await p.waitForURL(`${stack.base}/ui/overview`);
  await ready(p, 'overview');
  const rows = await p.locator('[data-table="msp-overview"] tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')));
  assert.equal(rows, [north.id]);
  await p.getByRole('button', { name: 'Sign out' }).click();
  await p.waitForURL(/\/ui\/login$/);
  // The provider remembers the first person: forget it, as signing out there would.
  await p.context().clearCookies();
  await p.goto(`${stack.base}/ui/login`);
  await p.getByRole('link', { name: 'Sign in with single sign-on' }).click();
  await p.locator('input[name="login"]').fill('outsider');
  await p.locator('input[name="password"]').fill('any password');
  await p.getByRole('button', { name: 'Sign-in' }).click();
  await p.getByRole('button', { name: 'Continue' }).click();
  await p.waitForURL(/\/ui\/login\?error=STK_ERR_FORBIDDEN/);
  await p.getByText('gives you no role on this install').waitFor();
});

test('every people page: 0 axe-core violations at 1280 and 390 px, no sideways scrolling', async () => {
  const userId = (await api('GET', `/users?q=${encodeURIComponent(alex.email)}`)).items[0].id as string;
  const found: string[] = [];
  for (const [path, name] of [
    ['/ui/overview', 'overview'],
    ['/ui/fanout', 'fanout'],
    ['/ui/people', 'people'],
    [`/ui/people/${userId}`, 'people'],
    ['/ui/service-accounts', 'service-accounts'],
    ['/ui/sign-in-policy', 'sign-in-policy'],
    [`/ui/t/${north.id}/access`, 'access'],
    [`/ui/t/${north.id}/approvals?status=`, 'approvals'],
    [`/ui/t/${north.id}/audit`, 'audit'],
  ] as const) {
    found.push(...(await checkPage(page, path, name)));
    if (path === `/ui/people/${userId}`) await shot(page, 'person');
    if (path === '/ui/sign-in-policy') await shot(page, 'policy');
    if (path === '/ui/people') await shot(page, 'people');
    if (path === '/ui/service-accounts') await shot(page, 'service-accounts');
  }
  found.push(...(await checkPage(alex.page!, '/ui/account', 'account')));
  // The pages before a session, in a browser without one.
  const f = await isolatedContext();
  others.push(f);
  found.push(...(await checkPage(f.page, '/ui/login', null)));
  found.push(...(await checkPage(f.page, '/ui/invite#stk_inv_incomplete', null)));
  assert.equal(found, [], found.join('\n'));
});

test.run();
