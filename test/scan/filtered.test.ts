import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const test = suite('scan: filtered ports');
const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

test('a port whose SYNs a firewall drops is filtered, a refused one closed (in a network namespace made for the test)', async () => {
  const ns = `stk-scan-${randomBytes(4).toString('hex')}`;
  await run('ip', ['netns', 'add', ns]);
  try {
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const [openPort, droppedPort, closedPort] = [20_022, 20_080, 20_443];
    const nft = (...args: string[]) => run('ip', ['netns', 'exec', ns, 'nft', ...args]);
    await nft('add', 'table', 'inet', 'stkscan');
    await nft('add', 'chain', 'inet', 'stkscan', 'input', '{ type filter hook input priority 0; policy accept; }');
    await nft('add', 'rule', 'inet', 'stkscan', 'input', 'tcp', 'dport', String(droppedPort), 'drop');
    const { stdout } = await run(
      'ip',
      ['netns', 'exec', ns, process.execPath, '--import', 'tsx', 'test/scan/netns-child.ts', String(openPort), String(droppedPort), String(closedPort)],
      { cwd: root, timeout: 60_000 },
    );
    assert.equal(JSON.parse(stdout), [
      { target: '127.0.0.1', address: '127.0.0.1', port: openPort, state: 'open', banner: 'open in netns\\r\\n' },
      { target: '127.0.0.1', address: '127.0.0.1', port: droppedPort, state: 'filtered' },
      { target: '127.0.0.1', address: '127.0.0.1', port: closedPort, state: 'closed' },
    ]);
  } finally {
    await run('ip', ['netns', 'del', ns]);
  }
});

test.run();
