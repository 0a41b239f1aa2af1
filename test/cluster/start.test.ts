import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { freePort, startNatsCluster } from '../../src/nats/server.ts';
import { tempDir } from '../helpers/nats.ts';

/**
 * A cluster's ports are picked free and bound a moment later by nats-server; another process on
 * the machine (a suite running beside this one) can take one in between. The start must then try
 * again on other ports, leaving no node of the failed attempt running — CI failed a backup test
 * on exactly this ("address already in use" on a route port).
 */
const test = suite('starting a 3-node cluster when a picked port is taken');

async function holdPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  return { port: typeof addr === 'object' && addr ? addr.port : 0, server };
}

/** The pids of running nats-server processes whose command line names `dir`. */
async function natsServersUnder(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const argv = cmdline.split('\0');
    if (argv.some((a) => a.endsWith('nats-server')) && argv.some((a) => a.startsWith(dir))) pids.push(Number(entry));
  }
  return pids.sort((a, b) => a - b);
}

test('a route port taken before its node binds it: started again on other ports, no node of the first try left', async () => {
  const held = await holdPort();
  const dir = await tempDir('stk-cluster-start-');
  // The 5th port picked is node 1's route port (3 client ports first, then 3 route ports).
  let picks = 0;
  const pickPort = async (): Promise<number> => (++picks === 5 ? held.port : freePort());
  const cluster = await startNatsCluster(dir.path, 3, {}, pickPort);
  try {
    assert.ok(picks > 6, `ports were picked again after the taken one (${picks} picks)`);
    const used = cluster.servers.flatMap((s) => [s.port, s.options.cluster!.port]);
    assert.not.ok(used.includes(held.port), 'the taken port is not one the cluster uses');
    assert.equal(
      await natsServersUnder(dir.path),
      cluster.servers.map((s) => s.pid).sort((a, b) => a - b),
      'only the cluster that started is running',
    );
    assert.ok(cluster.servers.every((s) => !s.exited));
  } finally {
    await cluster.stop();
    held.server.close();
    await dir.cleanup();
  }
});

test('a port that stays taken: the start gives up with the reason, and nothing is left running', async () => {
  const held = await holdPort();
  const dir = await tempDir('stk-cluster-start-');
  let picks = 0;
  const pickPort = async (): Promise<number> => (++picks % 6 === 0 ? held.port : freePort());
  try {
    const err = await startNatsCluster(dir.path, 3, {}, pickPort).then(
      () => null,
      (e: unknown) => e as Error & { code?: string },
    );
    assert.ok(err, 'the start fails');
    assert.is(err!.code, 'STK_ERR_NATS_SERVER_START');
    assert.match(JSON.stringify(err), /address already in use/);
    assert.is(picks, 30, 'five attempts of six ports each');
    assert.equal(await natsServersUnder(dir.path), []);
  } finally {
    held.server.close();
    await dir.cleanup();
  }
});

test.run();
