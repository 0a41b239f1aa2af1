import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assertPackageName, compareVersions, isPackageName } from '../../../src/agent/patch/mod.ts';
import { throws } from '../../helpers/assert.ts';

const run = promisify(execFile);
const test = suite('patch: Debian versions and package names');

// Pairs chosen to hit every rule of dpkg's ordering: epochs, `~` before the end, letters before
// signs, numeric runs with leading zeros, missing revisions, binNMU and security suffixes.
const PAIRS: Array<[string, string]> = [
  ['1.0', '1.1'],
  ['1.0', '1.0'],
  ['1:0.9', '2.0'],
  ['1.0~rc1', '1.0'],
  ['1.0~~', '1.0~'],
  ['1.0a', '1.0+'],
  ['1.0', '1.0-0'],
  ['1.01', '1.1'],
  ['1.002', '1.10'],
  ['2.36-9+deb12u7', '2.36-9+deb12u14'],
  ['5.2.15-2+b8', '5.2.15-2+b13'],
  ['3.0.11-1~deb12u2', '3.0.11-1'],
  ['1.2.3-1ubuntu0.1', '1.2.3-1ubuntu0.10'],
  ['0:1.0', '1.0'],
  ['1.0-1', '1.0-1.1'],
  ['a', 'b'],
  ['1.0.0', '1.0'],
  ['7.88.1-10+deb12u5', '7.88.1-10+deb12u12'],
];

test('compareVersions orders versions as dpkg --compare-versions does', async () => {
  for (const [a, b] of PAIRS) {
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      const lt = await run('dpkg', ['--compare-versions', x, 'lt', y]).then(
        () => true,
        () => false,
      );
      const eq = await run('dpkg', ['--compare-versions', x, 'eq', y]).then(
        () => true,
        () => false,
      );
      const ours = compareVersions(x, y);
      assert.is(ours < 0, lt, `${x} < ${y}`);
      assert.is(ours === 0, eq, `${x} = ${y}`);
    }
  }
});

test('package names follow the Debian policy pattern, with an optional arch', () => {
  for (const ok of ['stk-demo', 'libc6', 'g++', 'libstdc++6', 'python3.11', 'libc6:i386', 'linux-image-6.1.0-13-amd64', '0ad'])
    assert.ok(isPackageName(ok), ok);
  for (const bad of [
    'foo;rm -rf /',
    '../x',
    'a',
    '-o',
    '--force-all',
    'Foo',
    'foo bar',
    'foo/bar',
    'foo$(id)',
    'foo:',
    'foo:i386:x',
    '.hidden',
    '',
    'x'.repeat(200),
  ])
    assert.not.ok(isPackageName(bad), bad);
  assert.not.ok(isPackageName(42));
});

test('assertPackageName refuses with STK_ERR_PATCH_PACKAGE_INVALID and names the package', () => {
  const err = throws(() => assertPackageName('foo;rm -rf /'), 'STK_ERR_PATCH_PACKAGE_INVALID');
  assert.is(err.data.package, 'foo;rm -rf /');
  throws(() => assertPackageName(['stk-demo']), 'STK_ERR_PATCH_PACKAGE_INVALID');
});

test.run();
