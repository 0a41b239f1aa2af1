import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { BrowserContext, Page } from 'playwright-core';
import { readToken } from '../helpers/events.ts';
import { apiCall, type stockadeFixture } from './stack.ts';

type Stack = Awaited<ReturnType<typeof stockadeFixture>>;

/** Deadline for anything a busy 2-core machine may take a while to show. */
export const SLOW_MS = 30_000;

/** The main area once the page's data has been drawn. */
export async function ready(p: Page, pageName: string): Promise<void> {
  await p.locator(`main[data-page="${pageName}"][data-ready]`).waitFor({ timeout: SLOW_MS });
}

/** Signs in through the sign-in form and waits for the page it leads to. */
export async function signIn(stack: Stack, p: Page, credential: string): Promise<void> {
  await p.goto(`${stack.base}/ui/login`);
  await p.getByLabel('Admin key or tenant token', { exact: true }).fill(credential);
  await p.getByRole('button', { name: 'Sign in with key' }).click();
  await p.waitForURL(/\/ui\/(customers|t\/)/);
}

/** Waits until the read models have everything the log holds now (read-your-writes for the test's own reads). */
export async function settled(stack: Stack, tenant: string): Promise<void> {
  const position = await stack.stk.runtime.log.lastPosition();
  const waitFor = await readToken(stack.stk.runtime.streams, tenant, position);
  // Each ask waits on the read models for up to the API's 10 s; a loaded box (a burst just written,
  // other suites beside) may need several: asked again until a generous deadline.
  const deadline = Date.now() + SETTLE_DEADLINE_MS;
  for (;;) {
    const r = await apiCall(stack.base, stack.adminKey, 'GET', `/tenants/${tenant}?waitFor=${waitFor}&waitMs=10000`);
    if (r.status === 200) return;
    assert.is(r.body?.error?.code, 'STK_ERR_PROJECTION_BEHIND', `settling answered ${r.status}: ${JSON.stringify(r.body)}`);
    assert.ok(Date.now() < deadline, `the read models did not reach position ${position} within ${SETTLE_DEADLINE_MS} ms`);
  }
}

/** How long `settled` waits for the read models in all. */
const SETTLE_DEADLINE_MS = 120_000;

/** Ends the browser's dashboard session on the server, as a sign-out elsewhere or an expiry would. */
export async function endSession(stack: Stack, context: BrowserContext): Promise<void> {
  const cookie = (await context.cookies()).find((c) => c.name === 'stk_session')!;
  const headers = { cookie: `stk_session=${cookie.value}` };
  const session = (await (await fetch(`${stack.base}/ui/session`, { headers })).json()) as { csrf: string };
  const res = await fetch(`${stack.base}/ui/session`, { method: 'DELETE', headers: { ...headers, 'x-csrf-token': session.csrf } });
  assert.is(res.status, 204);
}

let axeSource: Promise<string> | null = null;

/**
 * Runs axe-core in the page (WCAG 2.x A and AA rules) and returns its violations as readable lines.
 * It is evaluated through the debugging protocol, which the page's CSP does not govern, so the
 * strict policy stays on while it runs.
 */
export async function axe(p: Page): Promise<string[]> {
  axeSource ??= readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  const src = await axeSource;
  await p.evaluate(`${src}\n;0`);
  const found = (await p.evaluate(async () => {
    const w = window as unknown as {
      axe: { run(ctx: unknown, o: unknown): Promise<{ violations: Array<{ id: string; help: string; nodes: Array<{ target: unknown }> }> }> };
    };
    const r = await w.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);
  })) as string[];
  return found;
}

/** Page width beyond the viewport: sideways scrolling of the whole page (WCAG 1.4.10 forbids it at 320 CSS px of content). */
export function overflowX(p: Page): Promise<number> {
  return p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

/** WCAG contrast ratio of two CSS colours as the browser computes them (`rgb(…)`). */
export function contrast(a: string, b: string): number {
  const lum = (c: string): number => {
    const [r, g, bl] = (c.match(/[\d.]+/g) ?? ['0', '0', '0']).slice(0, 3).map((x) => {
      const v = Number(x) / 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    }) as [number, number, number];
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [x, y] = [lum(a), lum(b)].sort((m, n) => n - m) as [number, number];
  return (x + 0.05) / (y + 0.05);
}

/** Shows `n` rows of the alert list: the page size where the page has one, "Load more" otherwise. */
export async function showRows(p: Page, n: number): Promise<void> {
  const size = p.getByLabel('Rows per page', { exact: true });
  if (await size.count()) {
    await size.selectOption(String(n));
  } else {
    while ((await p.locator('main tbody tr').count()) < n) {
      const before = await p.locator('main tbody tr').count();
      await p.getByRole('button', { name: 'Load more' }).click();
      await p.waitForFunction((b) => document.querySelectorAll('main tbody tr').length > b, before, { timeout: SLOW_MS });
    }
  }
  await p.waitForFunction((want) => document.querySelectorAll('main tbody tr').length >= want, n, { timeout: SLOW_MS });
}

/**
 * Saves a picture of the page for the manual (docs/images/dashboard-<name>.png), without the
 * notices: from the top of the page, or from the element `at` when the picture is about it.
 */
export async function screenshot(p: Page, name: string, at?: string): Promise<void> {
  await p.evaluate((sel) => {
    document.getElementById('toasts')?.setAttribute('hidden', '');
    const el = sel ? document.querySelector(sel) : null;
    if (el) el.scrollIntoView({ block: 'start' });
    else window.scrollTo(0, 0);
  }, at ?? null);
  await p.screenshot({ path: new URL(`../../docs/images/dashboard-${name}.png`, import.meta.url).pathname });
  await p.evaluate(() => document.getElementById('toasts')?.removeAttribute('hidden'));
}

/** Confirms the open dialog with its button `name`, and waits until it has gone. */
export async function confirmDialog(p: Page, name: string): Promise<void> {
  const dialog = p.locator('dialog');
  await dialog.getByRole('button', { name, exact: true }).click();
  await dialog.waitFor({ state: 'detached' });
}

/** Every page in `pages` at 1280 and 390 px: axe-core violations (WCAG 2.2 A/AA) and sideways scrolling at 390 px, as lines. */
export async function auditPages(p: Page, base: string, pages: Array<[string, string]>): Promise<string[]> {
  const found: string[] = [];
  try {
    for (const width of [1280, 390]) {
      await p.setViewportSize({ width, height: width === 390 ? 844 : 800 });
      for (const [name, path] of pages) {
        await p.goto(`${base}${path}`);
        await ready(p, name);
        await p.waitForFunction(() => !document.querySelector('main [aria-busy="true"]') && !document.body.innerText.includes('Loading'), undefined, {
          timeout: SLOW_MS,
        });
        for (const v of await axe(p)) found.push(`${width}px ${path}: ${v}`);
        if (width === 390) {
          const over = await overflowX(p);
          if (over > 0) found.push(`390px ${path}: ${over} px of sideways scrolling`);
        }
      }
    }
  } finally {
    await p.setViewportSize({ width: 1280, height: 800 });
  }
  return found;
}
