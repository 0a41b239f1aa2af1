/**
 * The shipped unit file and docs/agent-install.md against the code: systemd accepts the unit, it
 * starts the agent with flags the CLI has, and the install page lists exactly the flags of
 * `stockade agent run`.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir } from '../helpers/nats.ts';
import { startStockade } from './fixture.ts';

const test = suite('agent install: unit file and install page');
const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');

test('systemd accepts the unit; it runs the agent with flags the CLI has and does not restart a revoked agent', async () => {
  const unit = await readFile(join(ROOT, 'infra/systemd/stockade-agent.service'), 'utf8');
  const exec = /^ExecStart=\/usr\/bin\/stockade (.+)$/m.exec(unit);
  assert.ok(exec, 'ExecStart runs /usr/bin/stockade');
  assert.equal(exec![1]!.split(' ').slice(0, 2), ['agent', 'run']);
  assert.match(unit, /^RestartPreventExitStatus=3$/m);
  assert.match(unit, /^KillSignal=SIGTERM$/m);
  // Evidence is collected from the host's own paths (/tmp and /var/tmp included, where dropped
  // programs run from): nothing may give the agent a private or hidden view of the file system.
  for (const hiding of ['PrivateTmp', 'ProtectHome', 'ProtectSystem', 'TemporaryFileSystem', 'InaccessiblePaths', 'PrivateMounts', 'RootDirectory']) {
    assert.not.match(unit, new RegExp(`^${hiding}=`, 'm'), `${hiding} would hide host files from collect-evidence`);
  }
  const dir = await tempDir('stk-unit-');
  try {
    // Verified with a binary that exists here; everything else is the shipped unit.
    const copy = join(dir.path, 'stockade-agent.service');
    await writeFile(copy, unit.replace('ExecStart=/usr/bin/stockade', `ExecStart=${process.execPath}`));
    const r = await run('systemd-analyze', ['verify', copy]).catch((err: { stdout: string; stderr: string }) => err);
    assert.is(`${r.stderr}`.trim(), '', `systemd-analyze: ${r.stderr}`);
  } finally {
    await dir.cleanup();
  }
  const help = startStockade(['agent', 'run', '--help']);
  await help.exited;
  const flags = [...help.lines.join('\n').matchAll(/^\s+(--[a-z-]+)/gm)].map((m) => m[1]!).filter((f) => f !== '--help');
  for (const f of exec![1]!.match(/--[a-z-]+/g)!) assert.ok(flags.includes(f), `${f} is a flag of agent run`);
  const page = await readFile(join(ROOT, 'docs/agent-install.md'), 'utf8');
  const documented = [...page.matchAll(/^\| `(--[a-z-]+)/gm)].map((m) => m[1]!);
  assert.equal(documented.sort(), flags.sort(), 'the install page lists exactly the flags of agent run');
});

test.run();
