import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { NatsConnection } from '@nats-io/transport-node';
import { createHash } from 'node:crypto';
import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dataPaths, readRunInfo } from '../../src/datadir.ts';
import { ledgerSubject, parseBlock } from '../../src/ledger/format.ts';
import { EventLog } from '../../src/log/mod.ts';
import { readNatsCredentials } from '../../src/nats/auth.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { freePort, startNatsServer } from '../../src/nats/server.ts';
import { createTenant, enrollAgent, freshTenant, raiseAlert } from '../helpers/events.ts';
import { doorOf, tempDir } from '../helpers/nats.ts';
import { readToken } from '../helpers/events.ts';
import { runCli, type CliProcess } from '../helpers/proc.ts';

const test = suite('backup and restore of an embedded install (the procedure of docs/operations.md)');

async function cli(args: string[]): Promise<{ code: number | null; out: string[] }> {
  const p = runCli(args);
  return { code: await p.exited, out: p.lines };
}

/** `stockade serve --data dir` with all roles, running; stopped with SIGTERM so its nats-server stops too. */
async function serve(dir: string): Promise<{ p: CliProcess; nc: NatsConnection; api: string; stop(): Promise<void> }> {
  const p = runCli(['serve', '--data', dir, '--http', `127.0.0.1:${await freePort()}`, '--ingress', `127.0.0.1:${await freePort()}`]);
  const running = JSON.parse(await p.waitFor(/stockade is running/, 120_000));
  const info = await readRunInfo(dir);
  // The embedded server has users (credentials in the data folder): the test appends as the app.
  const credentials = await readNatsCredentials(dir);
  const nc = await connectNats({ servers: info!.natsUrl, user: 'app', pass: credentials!.users.app });
  return {
    p,
    nc,
    api: running.api,
    async stop() {
      await nc.close().catch(() => {});
      p.child.kill('SIGTERM');
      await p.exited;
    },
  };
}

/**
 * Watches `ledger.<tenant>` from now on (subscribed at the server before it returns, so no block
 * published after the call is missed); `until(seq)` resolves once a block seals record `seq`.
 */
async function watchBlocks(nc: NatsConnection, tenant: string): Promise<{ until(seq: number): Promise<void> }> {
  const sub = nc.subscribe(ledgerSubject(tenant));
  await nc.flush();
  let sealed = 0;
  const waiters: Array<{ seq: number; resolve: () => void }> = [];
  void (async () => {
    for await (const m of sub) {
      sealed = Math.max(sealed, parseBlock(m.data, { tenant }).lastSeq);
      for (const w of waiters.filter((w) => w.seq <= sealed)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  })();
  return {
    until: (seq) =>
      seq <= sealed
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiters.push({ seq, resolve })).finally(() => {
            if (waiters.length === 0) sub.unsubscribe();
          }),
  };
}

test('back up a running install, restore into a new data folder with its keys, and it verifies, serves and keeps sealing', async () => {
  const dirs = await tempDir('stk-install-');
  const a = join(dirs.path, 'a');
  const b = join(dirs.path, 'b');
  const backup = join(dirs.path, 'backup');
  let first: Awaited<ReturnType<typeof serve>> | null = null;
  let second: Awaited<ReturnType<typeof serve>> | null = null;
  try {
    first = await serve(a);
    const log = await EventLog.connect(first.nc, { skipEnsureStream: true });
    const tenants = [freshTenant('ins'), freshTenant('ins')];
    let lastAlert = 0;
    for (const t of tenants) {
      const blocks = await watchBlocks(first.nc, t);
      await createTenant(log, t, ['edr']);
      const { agentId } = await enrollAgent(log, t);
      for (let i = 0; i < 5; i++) lastAlert = (await raiseAlert(log, t, agentId)).position;
      await blocks.until(lastAlert);
    }
    const before = await cli(['ledger', 'verify', '--all', '--data', a]);
    assert.is(before.code, 0, before.out.join('\n'));
    const bk = await cli(['backup', '--out', backup, '--data', a]);
    assert.is(bk.code, 0, bk.out.join('\n'));
    const manifestSha256 = createHash('sha256')
      .update(await readFile(join(backup, 'manifest.json')))
      .digest('hex');
    await first.stop();
    first = null;

    // docs/operations.md: a bare nats-server on the new store, restore, stop it, then serve.
    await cp(dataPaths(a).pki, dataPaths(b).pki, { recursive: true });
    await cp(dataPaths(a).ledger, dataPaths(b).ledger, { recursive: true });
    await cp(dataPaths(a).adminKey, dataPaths(b).adminKey);
    const bare = await startNatsServer({ storeDir: dataPaths(b).natsStore });
    try {
      const r = await cli(['restore', '--from', backup, '--nats-url', bare.url]);
      assert.is(r.code, 0, r.out.join('\n'));
    } finally {
      await bare.stop();
    }

    second = await serve(b);
    const after = await cli(['ledger', 'verify', '--all', '--data', b]);
    assert.is(after.code, 0, after.out.join('\n'));
    // Every chain there before the backup is there after the restore, which each tenant's log records.
    const chains = (v: { out: string[] }) =>
      v.out
        .filter((l) => l.startsWith('ok '))
        .map((l) => l.split(':')[0])
        .sort();
    assert.equal(chains(after), chains(before));
    const restoredLog = await EventLog.connect(second.nc, { skipEnsureStream: true });
    for (const t of tenants) {
      const restored = (await restoredLog.readTenant(t)).flatMap((r) => r.events).filter((e) => e.type === 'backup.restored');
      assert.is(restored.length, 1, t);
      assert.equal((restored[0]!.data as { parts: Array<{ manifestSha256: string }> }).parts[0]!.manifestSha256, manifestSha256);
    }

    // Read models rebuilt from the restored log on start: the second tenant's five alerts are there.
    const key = (await readFile(dataPaths(b).adminKey, 'utf8')).trim();
    const res = await fetch(`${second.api}/api/v1/tenants/${tenants[1]}/alerts?waitFor=${await readToken(await doorOf(second.nc), tenants[1]!, lastAlert)}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const body = (await res.json()) as { items: unknown[] };
    assert.is(res.status, 200, JSON.stringify(body));
    assert.is(body.items.length, 5);

    // The restored sealer extends a restored chain with the restored keys.
    const log2 = await EventLog.connect(second.nc, { skipEnsureStream: true });
    const blocks = await watchBlocks(second.nc, tenants[1]!);
    const more = (await raiseAlert(log2, tenants[1]!, 'agent-x')).position;
    await blocks.until(more);
    const extended = await cli(['ledger', 'verify', '--tenant', tenants[1]!, '--data', b]);
    assert.is(extended.code, 0, extended.out.join('\n'));
    assert.ok(
      extended.out.some((l) => l.startsWith(`ok ${tenants[1]}: 10 entries`)), // 8 before the backup, the restore's record, one more alert
      extended.out.join('\n'),
    );
  } finally {
    await first?.stop().catch(() => {});
    await second?.stop().catch(() => {});
    await dirs.cleanup();
  }
});

test.run();
