import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { existsSync } from 'node:fs';
import { CHROMIUM, CHROMIUM_ARGS } from '../../src/browser.ts';
import { tempDir } from '../helpers/nats.ts';

export { CHROMIUM };
const ARGS = [...CHROMIUM_ARGS];

/** A real browser on a fresh profile, at the size the dashboard is designed for (1280×800). */
export async function browserFixture(): Promise<{ context: BrowserContext; newPage(): Promise<Page>; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: run sh infra/ensure-browser.sh`);
  const profile = await tempDir('stk-chromium-');
  const context = await chromium.launchPersistentContext(profile.path, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 800 },
  });
  return {
    context,
    newPage: () => context.newPage(),
    async close() {
      await context.close().catch(() => {});
      await profile.cleanup();
    },
  };
}

/** A second, separate browser profile: its own cookies, so its own session. */
export async function isolatedContext(): Promise<{ page: Page; close(): Promise<void> }> {
  const b = await browserFixture();
  const page = b.context.pages()[0] ?? (await b.newPage());
  return { page, close: () => b.close() };
}
