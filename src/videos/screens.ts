// Screens: the distribution's chromium, driven by playwright-core, plays a spec's steps on the real
// dashboard and keeps, per step, one picture and the box of the element the narration is about.
// Nothing here knows what the dashboard's pages contain: every page, action and selector comes
// from the spec.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { CHROMIUM_ARGS } from '../browser.ts';
import { StkError } from '../errors.ts';
import { type Action, type VideoSpec, VIDEO_SIZE } from './spec.ts';
import type { Box } from './timeline.ts';

const ARGS = [...CHROMIUM_ARGS];

/** What one step left on screen. */
export interface Captured {
  /** The picture, the video's size (viewport × device scale). */
  screenshot: string;
  /** The pointed element in video pixels, when the step points at one. */
  box?: Box;
  url: string;
}

export interface CaptureOptions {
  /** The install's base URL (`http://127.0.0.1:8080`); the dashboard is under `/ui`. */
  base: string;
  /** Admin key or tenant token, for the sign-in page. Typed into the page, never logged. */
  credential: string;
  chromium: string;
  /** Folder for the pictures (`step-01.png`, …). */
  outDir: string;
  /** Longest wait for a page, an element or a selector, in ms. */
  timeoutMs?: number;
  onStep?: (step: number, total: number) => void;
}

function stepFailed(spec: VideoSpec, step: number, action: string, selector: string | null, err: unknown): StkError {
  const first = ((err as Error)?.message ?? String(err)).split('\n')[0];
  return new StkError(
    'STK_ERR_VIDEO_STEP_FAILED',
    `${spec.file}: step ${step}: ${action}${selector ? ` ${JSON.stringify(selector)}` : ''} failed: ${first}`,
    { file: spec.file, step, action, selector },
    { cause: err },
  );
}

function describeAction(a: Action): { name: string; selector: string | null } {
  if ('click' in a) return { name: 'click', selector: a.click };
  if ('type' in a) return { name: 'type', selector: a.type.selector };
  if ('select' in a) return { name: 'select', selector: a.select.selector };
  return { name: `press ${a.press.key}`, selector: a.press.selector ?? null };
}

async function perform(page: Page, a: Action, credential: string, timeout: number): Promise<void> {
  // The first match: specs name elements by what they show, and a list may repeat a label.
  const at = (selector: string): Locator => page.locator(selector).first();
  if ('click' in a) return at(a.click).click({ timeout });
  if ('type' in a) {
    const field = at(a.type.selector);
    // The credential is only ever typed where the page shows dots instead of it.
    if (a.type.text.includes('{credential}') && (await field.getAttribute('type', { timeout })) !== 'password')
      throw new Error('{credential} is typed into password fields only');
    return field.fill(a.type.text.replaceAll('{credential}', credential), { timeout });
  }
  if ('select' in a) return void (await at(a.select.selector).selectOption(a.select.value, { timeout }));
  if (a.press.selector) return at(a.press.selector).press(a.press.key, { timeout });
  return page.keyboard.press(a.press.key);
}

/** Signs in through the real sign-in page: the credential into its key or token field, then Enter. */
export async function signIn(page: Page, base: string, credential: string, timeoutMs: number): Promise<void> {
  const url = `${base}/ui/login`;
  try {
    await page.goto(url, { timeout: timeoutMs });
    // The key or token field of the sign-in page (its first password field is a person's password).
    const field = page.locator('#credential');
    await field.fill(credential, { timeout: timeoutMs });
    await field.press('Enter');
    await page.waitForURL((u) => !u.pathname.endsWith('/login'), { timeout: timeoutMs });
  } catch (err) {
    throw new StkError(
      'STK_ERR_VIDEO_SIGN_IN_FAILED',
      `could not sign in at ${url}: ${((err as Error).message ?? '').split('\n')[0]}`,
      { url },
      { cause: err },
    );
  }
}

/** Waits until the page has painted what it has: fonts loaded and two animation frames passed. */
async function settled(page: Page): Promise<void> {
  await page.evaluate(async () => {
    await document.fonts.ready;
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  });
}

async function playStep(page: Page, spec: VideoSpec, index: number, o: CaptureOptions, timeout: number): Promise<Captured> {
  const step = spec.steps[index]!;
  const n = index + 1;
  if (step.open !== undefined) {
    const target = `${o.base}/ui/${step.open.replace(/^\//, '')}`;
    try {
      const res = await page.goto(target, { timeout });
      if (res && res.status() >= 400) throw new Error(`the page answered ${res.status()}`);
    } catch (err) {
      throw stepFailed(spec, n, 'open', step.open, err);
    }
  }
  for (const a of step.do ?? []) {
    const d = describeAction(a);
    try {
      await perform(page, a, o.credential, timeout);
    } catch (err) {
      throw stepFailed(spec, n, d.name, d.selector, err);
    }
  }
  if (step.wait) {
    try {
      await page.locator(step.wait).first().waitFor({ state: 'visible', timeout });
    } catch (err) {
      throw stepFailed(spec, n, 'wait', step.wait, err);
    }
  }
  if (step.waitGone) {
    try {
      await page.locator(step.waitGone).first().waitFor({ state: 'hidden', timeout });
    } catch (err) {
      throw stepFailed(spec, n, 'waitGone', step.waitGone, err);
    }
  }
  const screenshot = join(o.outDir, `step-${String(n).padStart(2, '0')}.png`);
  const shoot = async (): Promise<void> => {
    await settled(page);
    await page.screenshot({ path: screenshot, animations: 'disabled', caret: 'hide', scale: 'device' });
  };
  if (!step.point) {
    await shoot();
    return { screenshot, url: page.url() };
  }
  // A live page may draw a list again at any moment (an agent reports, a filter answers): the box
  // counts only when the element is the same, in the same place, before and after the picture.
  const scale = VIDEO_SIZE.width / spec.viewport.width;
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    let b: { x: number; y: number; width: number; height: number } | null = null;
    try {
      const el = page.locator(step.point).first();
      await el.waitFor({ state: 'visible', timeout });
      await el.scrollIntoViewIfNeeded({ timeout });
      const handle = await el.elementHandle({ timeout });
      b = await handle!.boundingBox();
      await shoot();
      const after = (await handle!.evaluate((node) => node.isConnected)) ? await handle!.boundingBox() : null;
      if (!b || !after || JSON.stringify(b) !== JSON.stringify(after)) throw new Error('the element moved or was drawn again while the picture was taken');
    } catch (err) {
      last = err;
      // Waiting longer would not help: the element is not there.
      if ((err as Error).name === 'TimeoutError') break;
      continue;
    }
    const box = { x: b.x * scale, y: b.y * scale, width: b.width * scale, height: b.height * scale };
    if (box.x + box.width <= 0 || box.y + box.height <= 0 || box.x >= VIDEO_SIZE.width || box.y >= VIDEO_SIZE.height)
      throw stepFailed(spec, n, 'point', step.point, new Error('the element is outside the screen'));
    return { screenshot, box, url: page.url() };
  }
  throw stepFailed(spec, n, 'point', step.point, last);
}

/** Plays every step of `spec` in a fresh browser profile and returns what each step left on screen. */
export async function captureSteps(spec: VideoSpec, o: CaptureOptions): Promise<Captured[]> {
  const timeout = o.timeoutMs ?? 30_000;
  let chromium: typeof import('playwright-core').chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (err) {
    throw new StkError(
      'STK_ERR_VIDEO_TOOL_MISSING',
      'playwright-core is not installed (npm install playwright-core)',
      { tool: 'playwright-core', package: 'npm: playwright-core' },
      { cause: err },
    );
  }
  const profile = await mkdtemp(join(tmpdir(), 'stk-video-chromium-'));
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: o.chromium,
      headless: true,
      args: ARGS,
      viewport: spec.viewport,
      deviceScaleFactor: VIDEO_SIZE.width / spec.viewport.width,
      colorScheme: 'light',
      reducedMotion: 'reduce',
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(timeout);
    if (spec.signIn) await signIn(page, o.base, o.credential, timeout);
    const out: Captured[] = [];
    for (let i = 0; i < spec.steps.length; i++) {
      o.onStep?.(i + 1, spec.steps.length);
      out.push(await playStep(page, spec, i, o, timeout));
    }
    return out;
  } finally {
    await context?.close().catch(() => {});
    await rm(profile, { recursive: true, force: true });
  }
}
