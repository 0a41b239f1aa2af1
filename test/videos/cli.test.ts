import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { tempDir } from '../helpers/nats.ts';
import { runCli } from '../helpers/proc.ts';

/**
 * `stockade docs videos` and `npm run videos` refuse what they cannot do before any install starts
 * or any browser opens: a bad spec (file, step, field), a section that does not exist, --api
 * without a credential. Each exits 1 with the code.
 */
const test = suite('videos: the command');
const SPECS = resolve(import.meta.dirname, '../../docs/videos/specs');
const ROOT = resolve(import.meta.dirname, '../..');

async function exitAndLines(args: string[]): Promise<{ code: number | null; text: string }> {
  const p = runCli(['docs', 'videos', ...args]);
  const code = await p.exited;
  return { code, text: p.lines.join('\n') };
}

test('--api without --credential-file', async () => {
  const r = await exitAndLines(['--api', 'http://127.0.0.1:9']);
  assert.is(r.code, 1);
  assert.match(r.text, /--api needs --credential-file .*\(STK_ERR_CONFIG\)/);
});

test('a bad spec stops the run with its file, step and field', async () => {
  const dir = await tempDir('stk-videos-cli-');
  try {
    const specs = join(dir.path, 'specs');
    await mkdir(specs);
    await copyFile(join(SPECS, '02-overview.yaml'), join(specs, '02-overview.yaml'));
    await writeFile(join(specs, '03-bad.yaml'), 'title: Bad\nsteps:\n  - open: customers\n    say: [One.]\n  - point: 12\n    say: [Two.]\n');
    await writeFile(join(dir.path, 'key'), 'not-used\n');
    const r = await exitAndLines(['--specs', specs, '--out', join(dir.path, 'out'), '--api', 'http://127.0.0.1:9', '--credential-file', join(dir.path, 'key')]);
    assert.is(r.code, 1);
    assert.match(r.text, /03-bad\.yaml: step 2: point: must be string \(STK_ERR_VIDEO_SPEC_INVALID\)/);
    assert.equal((await readdir(dir.path)).sort(), ['key', 'specs'], 'no output folder was made');
  } finally {
    await dir.cleanup();
  }
});

test('--only with a section that does not exist (through npm run videos)', async () => {
  const dir = await tempDir('stk-videos-cli-');
  try {
    await writeFile(join(dir.path, 'key'), 'not-used\n');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'src/videos/main.ts'),
        '--only',
        '42',
        '--out',
        join(dir.path, 'out'),
        '--api',
        'http://127.0.0.1:9',
        '--credential-file',
        join(dir.path, 'key'),
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let text = '';
    child.stdout.on('data', (b: Buffer) => (text += b.toString()));
    child.stderr.on('data', (b: Buffer) => (text += b.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    assert.is(code, 1);
    assert.match(text, /videos: no spec for 42 \(STK_ERR_CONFIG\)/);
  } finally {
    await dir.cleanup();
  }
});

test.run();
