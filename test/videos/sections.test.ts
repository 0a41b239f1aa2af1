import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Ffmpeg } from '../../src/videos/ffmpeg.ts';
import { captureSteps } from '../../src/videos/screens.ts';
import { loadSpecs, VIDEO_SIZE, withTenant } from '../../src/videos/spec.ts';
import { findChromium, findFfmpeg } from '../../src/videos/tools.ts';
import { tempDir } from '../helpers/nats.ts';
import { stockadeFixture } from '../dashboard/stack.ts';
import { DEFAULT_SEED, seedDemo } from '../../src/demo/mod.ts';

/**
 * The section specs still fit the dashboard: each is played in chromium against a Stockade
 * filled by `stockade demo seed` with the seed the videos are filmed with (two customers, so the
 * MSP's analyst works on two, as section 09 says), and every step finds its page, its actions,
 * what it waits for and what it points at, on screen. (Filming only: voice and encode are
 * pipeline.test.ts's.)
 */
const test = suite('videos: the section specs play on the current dashboard');
const SPECS = resolve(import.meta.dirname, '../../docs/videos/specs');

type Stack = Awaited<ReturnType<typeof stockadeFixture>>;
let stack: Stack;
let dir: { path: string; cleanup(): Promise<void> };

test.before(async () => {
  dir = await tempDir('stk-sections-');
  try {
    stack = await stockadeFixture();
    const seeded = await seedDemo({
      target: { api: stack.base, adminKey: stack.adminKey, ingressUrl: stack.stk.ingressUrl!, caPem: await stack.caPem() },
      seed: DEFAULT_SEED,
      customers: 2,
    });
    seeded.close();
    // The specs name the customer the default seed puts first: a change of the book shows here.
    assert.is(seeded.summary.flagship, (await loadSpecs(SPECS))[0]!.tenant);
  } catch (err) {
    console.error('sections suite could not start:', err);
    await stack?.close();
    await dir.cleanup();
    throw err;
  }
});

test.after(async () => {
  await stack?.close();
  await dir?.cleanup();
});

test('every step of every section: a 1920×1080 picture, and the pointed element inside it', async () => {
  const ff = new Ffmpeg(findFfmpeg());
  const chromium = findChromium();
  for (const spec of await loadSpecs(SPECS)) {
    const out = join(dir.path, spec.name);
    await mkdir(out);
    const captured = await captureSteps(withTenant(spec, undefined), {
      base: stack.base,
      credential: stack.adminKey,
      chromium,
      outDir: out,
      timeoutMs: 15_000,
    });
    assert.is(captured.length, spec.steps.length, spec.name);
    for (const [i, c] of captured.entries()) {
      const where = `${spec.name} step ${i + 1}`;
      const p = await ff.probe(c.screenshot);
      assert.equal([p.streams[0]!.width, p.streams[0]!.height], [VIDEO_SIZE.width, VIDEO_SIZE.height], where);
      assert.is(Boolean(c.box), Boolean(spec.steps[i]!.point), where);
      if (!c.box) continue;
      const mid = { x: c.box.x + c.box.width / 2, y: c.box.y + c.box.height / 2 };
      assert.ok(mid.x > 0 && mid.x < VIDEO_SIZE.width && mid.y > 0 && mid.y < VIDEO_SIZE.height, `${where}: ${JSON.stringify(c.box)}`);
    }
  }
});

test.run();
