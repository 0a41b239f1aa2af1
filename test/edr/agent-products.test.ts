/**
 * The real agent (`stockade agent run`) carrying out the attack-surface and patch products end to
 * end: its patch collector posts the prepared root's inventory on the interval the configuration
 * gives; `run-scan` dispatched by an operator is pulled, run against a listener the test starts and
 * its items stored and sealed; `install-patches` runs beside the command loop and upgrades the
 * prepared root from a local `file:` apt repository. Nothing touches the machine's own packages.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type PatchRepoFixture, patchRepoFixture } from '../helpers/debrepo.ts';
import { tempDir } from '../helpers/nats.ts';
import { completed, dispatch, type EdrStack, edrStack, type Proc, startStockade, until } from './fixture.ts';

const test = suite('stockade agent run: patch inventory, run-scan and install-patches through the agent loop');
let s: EdrStack;
let agent: Proc | null = null;
let tmp: { path: string; cleanup(): Promise<void> };
let fx: PatchRepoFixture;
let listener: Server;
let port = 0;

test.before(async () => {
  s = await edrStack({ host: '127.0.0.1', products: ['attack-surface', 'patch'] });
  tmp = await tempDir('stk-agent-products-');
  fx = await patchRepoFixture(tmp.path);
  listener = createServer((socket) => socket.end('SSH-2.0-OpenSSH_7.2p2 Ubuntu-4ubuntu2.8\r\n'));
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  port = (listener.address() as { port: number }).port;
});
test.after(async () => {
  await agent?.kill();
  listener?.close();
  await s?.close();
  await tmp?.cleanup();
});

const versionIn = (status: string, pkg: string): string | undefined =>
  /^Version: (.+)$/m.exec(status.split('\n\n').find((x) => x.startsWith(`Package: ${pkg}\n`)) ?? '')?.[1];

test('the agent posts its inventory, scans what it is told to and installs the security update in the background', async () => {
  const r = await s.admin('PUT', '/agent-config', {
    configIntervalMs: 500,
    heartbeatIntervalMs: 1000,
    commandPollMs: 300,
    patchInventory: { intervalMs: 1000 },
  });
  assert.is(r.status, 200, JSON.stringify(r.body));
  assert.is((await s.admin('PUT', '/attack-surface', { targets: ['127.0.0.1'] })).status, 200);
  const { dir, agentId } = await s.enrollAgent('products');
  const root = await fx.freshRoot();
  agent = startStockade(['agent', 'run', '--dir', dir, '--host-root', root]);
  await agent.waitFor(/"agent running"/);

  // The patch collector runs on the product's interval and the server sees the pending security update.
  const host = await until('the host in the patch view', async () => {
    const h = await s.api('GET', `/patches/hosts/${agentId}`);
    return h.status === 200 && h.body.openFindings?.length ? h.body : null;
  });
  assert.ok(
    host.openFindings.some((f: { key: string }) => f.key === 'patch:stk-demo:1.1'),
    JSON.stringify(host.openFindings),
  );

  // run-scan: pulled by the agent's loop, run against the listener, items stored, the run sealed.
  const scanCommand = await dispatch(s, agentId, 'run-scan', { targets: ['127.0.0.1'], ports: [port], cipherEnumeration: false });
  const scanResult = await completed(s, scanCommand);
  assert.is(scanResult.outcome, 'succeeded', scanResult.output);
  const runs = await until('the scan run', async () => {
    const l = await s.api('GET', '/scans');
    const run = l.body.items?.find((x: { commandId?: string; status: string }) => x.commandId === scanCommand && x.status === 'completed');
    return run ?? null;
  });
  const items = await s.api('GET', `/scans/${runs.id}/items`);
  assert.ok(
    items.body.items.some(
      (i: { port: number; state: string; banner?: string }) => i.port === port && i.state === 'open' && i.banner?.includes('OpenSSH_7.2p2'),
    ),
    JSON.stringify(items.body),
  );

  // install-patches runs beside the loop (a ping dispatched after it is answered meanwhile), then upgrades the root.
  const install = await dispatch(s, agentId, 'install-patches', { mode: 'security', dryRun: false });
  const ping = await dispatch(s, agentId, 'ping');
  assert.is((await completed(s, ping)).outcome, 'succeeded');
  const installed = await completed(s, install, 120_000);
  assert.is(installed.outcome, 'succeeded', installed.output);
  assert.is(versionIn(await readFile(join(root, 'var/lib/dpkg/status'), 'utf8'), 'stk-demo'), '1.1');
  await until('the finding remediated', async () => {
    const h = await s.api('GET', `/patches/hosts/${agentId}`);
    return h.status === 200 && !h.body.openFindings.some((f: { key: string }) => f.key === 'patch:stk-demo:1.1');
  });
});

test.run();
