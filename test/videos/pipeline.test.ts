import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CheckInput, type CheckName, checkVideo } from '../../src/videos/checks.ts';
import { readmeText, writeReadme } from '../../src/videos/readme.ts';
import { findToolset, type RenderedSection, renderSection, type Toolset } from '../../src/videos/render.ts';
import { captureSteps } from '../../src/videos/screens.ts';
import { loadSpec, withTenant } from '../../src/videos/spec.ts';
import { parseVtt, webVtt } from '../../src/videos/timeline.ts';
import { rejects } from '../helpers/assert.ts';
import { tempDir } from '../helpers/nats.ts';
import { apiCall, enrollAgent, stockadeFixture } from '../dashboard/stack.ts';

/**
 * The whole pipeline on one short section against a Stockade this test starts: the real sign-in
 * page, the real dashboard in chromium, a real voice, ffmpeg. The video passes every check; then
 * each check is fed a broken video (or a plan that does not match it) and must fail.
 */
const test = suite('videos: a section from spec to checked video');

type Stack = Awaited<ReturnType<typeof stockadeFixture>>;
let stack: Stack;
let dir: { path: string; cleanup(): Promise<void> };
let tools: Toolset;
let rendered: RenderedSection;
let good: CheckInput;

const SPEC = `title: Alerts in short
summary: The customers page, then the alerts of one customer.
tenant: initech
steps:
  - open: customers
    wait: 'main[data-page="customers"][data-ready]'
    point: 'form[aria-label="New customer"] button[type="submit"]'
    say:
      - The customers page is where an administrator adds a company.
      - Each customer has its own agents and its own ledger.
  - open: t/{tenant}/alerts
    wait: '[data-table="alerts"]'
    point: '[data-table="alerts"] tbody tr:first-child .badge'
    say:
      - Alerts arrive here while you watch.
  - do:
      - click: '[data-table="alerts"] tbody tr:first-child input[type="checkbox"]'
    point: 'button:has-text("Open incident from selected")'
    say:
      - Select alerts to open an incident from them.
`;

/**
 * The timeout for runs that must fail at a step that waits for what never comes: every step and the
 * sign-in before it get the same timeout, and must pass within it on a loaded 2-core machine.
 */
const NEVER_MS = 6000;

async function specFile(name: string, text: string): Promise<string> {
  const path = join(dir.path, 'specs', name);
  await writeFile(path, text);
  return path;
}

/** The checks that fail for `input` (the VTT text from `vtt`). */
async function failing(input: CheckInput, vtt?: string): Promise<CheckName[]> {
  const results = await checkVideo(tools.ff, input, vtt ?? (await readFile(input.vtt, 'utf8')));
  return results.filter((r) => !r.ok).map((r) => r.name);
}

test.before(async () => {
  dir = await tempDir('stk-videos-');
  try {
    await mkdir(join(dir.path, 'specs'));
    tools = findToolset();
    stack = await stockadeFixture();
    const t = await apiCall(stack.base, stack.adminKey, 'POST', '/tenants', { id: 'initech', name: 'Initech' });
    await apiCall(stack.base, stack.adminKey, 'PUT', '/tenants/initech/products/edr', { enabled: true });
    const agent = await enrollAgent(stack, t.body.enrollSecret, 'initech-web-01');
    await agent.report([
      { kind: 'alert', at: new Date().toISOString(), data: { rule: 'edr.ps-download', severity: 'high', title: 'Suspicious PowerShell download cradle' } },
    ]);
    agent.close();
  } catch (err) {
    console.error('videos pipeline suite could not start:', err);
    await stack?.close();
    await dir.cleanup();
    throw err;
  }
});

test.after(async () => {
  if (rendered?.work) await rm(rendered.work.dir, { recursive: true, force: true });
  await stack?.close();
  await dir?.cleanup();
});

test('a three-step section renders, passes every check, and lands in the output folder with a README', async () => {
  const spec = await loadSpec(await specFile('01-alerts-in-short.yaml', SPEC));
  const phases: string[] = [];
  rendered = await renderSection(spec, {
    base: stack.base,
    credential: stack.adminKey,
    outDir: join(dir.path, 'out'),
    tools,
    check: true,
    keepWork: true,
    onProgress: (p) => phases.push(p.step ? `${p.phase} ${p.step}/${p.steps}` : p.phase),
  });
  assert.equal(
    rendered.checks!.map((c) => [c.name, c.ok]),
    [
      ['streams', true],
      ['duration', true],
      ['loudness', true],
      ['cues', true],
      ['frames', true],
      ['pointer', true],
    ],
  );
  for (const p of ['screens 1/3', 'screens 3/3', 'voice 3/3', 'narration', 'check', 'done']) assert.ok(phases.includes(p), `progress ${p}: ${phases}`);
  assert.ok(phases.some((p) => p === 'encode'));
  assert.equal((await readdir(join(dir.path, 'out'))).sort(), ['01-alerts-in-short.mp4', '01-alerts-in-short.png', '01-alerts-in-short.vtt']);
  assert.is(rendered.voice, 'festival');
  const t = rendered.timeline;
  assert.is(t.steps.length, 3);
  assert.is(t.steps[0]!.sentences.length, 2);
  assert.ok(
    t.steps.every((s) => s.point),
    'each step recorded the box of its element',
  );
  assert.is(await readFile(rendered.vtt, 'utf8'), webVtt(t));

  good = { video: rendered.work!.video, vtt: rendered.work!.vtt, timeline: t, shots: rendered.work!.shots };
  await writeReadme(tools.ff, [spec], join(dir.path, 'out'));
  const readme = await readFile(join(dir.path, 'out', 'README.md'), 'utf8');
  const len = `${Math.floor(Math.round(t.totalS) / 60)}:${String(Math.round(t.totalS) % 60).padStart(2, '0')}`;
  assert.ok(
    readme.includes(
      `| 01 | [![Alerts in short](01-alerts-in-short.png)](01-alerts-in-short.mp4)<br>[Alerts in short](01-alerts-in-short.mp4) | ${len} | The customers page, then the alerts of one customer. |`,
    ),
    readme,
  );
  assert.ok(readme.includes('1 of 1 section(s) rendered'));
  assert.ok(readmeText([spec], new Map()).includes('not rendered yet'));
});

test('streams: a video without its audio fails', async () => {
  const broken = join(dir.path, 'no-audio.mp4');
  await tools.ff.run(['-v', 'error', '-i', good.video, '-map', '0:v', '-c', 'copy', broken]);
  const f = await failing({ ...good, video: broken });
  assert.ok(f.includes('streams') && f.includes('loudness') && f.includes('cues'), String(f));
  assert.not.ok(f.includes('frames'), String(f));
});

test('duration: a video cut 1 s short fails, and only that check fails', async () => {
  const broken = join(dir.path, 'short.mp4');
  await tools.ff.run(['-v', 'error', '-i', good.video, '-t', (good.timeline.totalS - 1).toFixed(3), '-c', 'copy', broken]);
  const f = await failing({ ...good, video: broken });
  assert.ok(f.includes('duration'), String(f));
  assert.not.ok(f.includes('loudness') || f.includes('streams'), String(f));
});

test('loudness: audio left 8 dB quieter than normalised fails', async () => {
  const broken = join(dir.path, 'quiet.mp4');
  await tools.ff.run(['-v', 'error', '-i', good.video, '-c:v', 'copy', '-af', 'volume=-8dB', '-c:a', 'aac', '-b:a', '64k', broken]);
  assert.equal(await failing({ ...good, video: broken }), ['loudness']);
  // And too loud: peaks over the ceiling.
  const loud = join(dir.path, 'loud.mp4');
  await tools.ff.run(['-v', 'error', '-i', good.video, '-c:v', 'copy', '-af', 'volume=3dB', '-c:a', 'aac', '-b:a', '64k', loud]);
  assert.ok((await failing({ ...good, video: loud })).includes('loudness'));
});

test('cues: subtitles shifted by 0.3 s fail; so does a missing cue', async () => {
  const vtt = await readFile(good.vtt, 'utf8');
  const cues = parseVtt(vtt);
  const shifted = webVtt({
    ...good.timeline,
    steps: good.timeline.steps.map((s) => ({ ...s, sentences: s.sentences.map((x) => ({ ...x, startS: x.startS + 0.3, endS: x.endS + 0.3 })) })),
  });
  assert.is(parseVtt(shifted)[0]!.startS.toFixed(3), (cues[0]!.startS + 0.3).toFixed(3));
  assert.equal(await failing(good, shifted), ['cues']);
  const dropped = vtt.slice(0, vtt.lastIndexOf('\n\n'));
  assert.equal(await failing(good, dropped), ['cues']);
});

test('frames: pictures that do not match their steps fail', async () => {
  const swapped = [good.shots[1]!, good.shots[0]!, good.shots[2]!];
  assert.ok((await failing({ ...good, shots: swapped })).includes('frames'));
});

test('pointer: an element box away from where the pointer went fails', async () => {
  const moved = {
    ...good.timeline,
    steps: good.timeline.steps.map((s, i) => (i === 1 ? { ...s, point: { ...s.point!, x: s.point!.x + 400 } } : s)),
  };
  assert.equal(await failing({ ...good, timeline: moved }), ['pointer']);
});

test('a step that cannot be played fails with its file, step and selector, and leaves the output as it was', async () => {
  const out = join(dir.path, 'out');
  const before = await stat(join(out, '01-alerts-in-short.mp4'));
  const spec = await loadSpec(await specFile('01-alerts-in-short.yaml', SPEC.replace('wait: \'[data-table="alerts"]\'', "wait: '#no-such-thing'")));
  const err = await rejects(
    renderSection(spec, { base: stack.base, credential: stack.adminKey, outDir: out, tools, timeoutMs: NEVER_MS }),
    'STK_ERR_VIDEO_STEP_FAILED',
  );
  assert.equal([err.data.step, err.data.action, err.data.selector], [2, 'wait', '#no-such-thing']);
  assert.is(err.data.file, spec.file);
  const after = await stat(join(out, '01-alerts-in-short.mp4'));
  assert.is(after.mtimeMs, before.mtimeMs);
  assert.equal((await readdir(out)).sort(), ['01-alerts-in-short.mp4', '01-alerts-in-short.png', '01-alerts-in-short.vtt', 'README.md']);
  const nowhere = await loadSpec(
    await specFile('01-alerts-in-short.yaml', SPEC.replace('point: \'form[aria-label="New customer"] button[type="submit"]\'', "point: '#nowhere'")),
  );
  const pointErr = await rejects(
    renderSection(nowhere, { base: stack.base, credential: stack.adminKey, outDir: out, tools, timeoutMs: NEVER_MS }),
    'STK_ERR_VIDEO_STEP_FAILED',
  );
  assert.equal([pointErr.data.step, pointErr.data.action, pointErr.data.selector], [1, 'point', '#nowhere']);
  assert.is((await stat(join(out, '01-alerts-in-short.mp4'))).mtimeMs, before.mtimeMs);
  // Its temp folder is gone too.
  const temps = (await readdir('/tmp')).filter((n) => n.startsWith('stk-video-01-alerts-in-short-'));
  assert.equal(
    temps.filter((n) => join('/tmp', n) !== rendered.work!.dir),
    [],
  );
});

test('the credential is typed into password fields only, never where the video would show it', async () => {
  const typed = SPEC.replace(
    '  - do:\n      - click:',
    "  - do:\n      - type: { selector: 'input[type=\"checkbox\"]', text: 'x{credential}' }\n      - click:",
  );
  assert.ok(typed.includes('x{credential}'));
  const spec = withTenant(await loadSpec(await specFile('01-alerts-in-short.yaml', typed)), undefined);
  const err = await rejects(
    captureSteps(spec, { base: stack.base, credential: stack.adminKey, chromium: tools.chromium, outDir: dir.path, timeoutMs: 30_000 }),
    'STK_ERR_VIDEO_STEP_FAILED',
  );
  assert.equal([err.data.step, err.data.action], [3, 'type']);
  assert.match(err.message, /password fields only/);
  assert.not.ok(err.message.includes(stack.adminKey));
});

test('a wrong credential stops at the sign-in page', async () => {
  const shots = join(dir.path, 'signin-shots');
  await mkdir(shots);
  const spec = withTenant(await loadSpec(await specFile('01-alerts-in-short.yaml', SPEC)), undefined);
  const err = await rejects(
    captureSteps(spec, {
      base: stack.base,
      credential: 'stk_tok_wrongwrongwro.wrongwrongwrongwrongwrongwrongwrongwrongwro',
      chromium: tools.chromium,
      outDir: dir.path,
      timeoutMs: NEVER_MS,
    }),
    'STK_ERR_VIDEO_SIGN_IN_FAILED',
  );
  assert.is(err.data.url, `${stack.base}/ui/login`);
  assert.not.ok(err.message.includes('wrongwrong'), 'the credential is not in the error');
  assert.equal(await readdir(shots), [], 'no picture was taken');
});

test.run();
