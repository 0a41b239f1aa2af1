import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { EventLog, EVENTS_STREAM } from '../../src/log/mod.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { freePort } from '../../src/nats/server.ts';
import { ledgerSubject, parseBlock } from '../../src/ledger/format.ts';
import { tempDir } from '../helpers/nats.ts';
import { runCli } from '../helpers/proc.ts';
import { freshTenant } from './fixture.ts';

const test = suite('ledger, embedded: the sealer inside stockade serve, verify and export with --data');

test('serve seals with a key under <data>/ledger (0600); verify --data passes, then names a removed event', async () => {
  const dir = await tempDir();
  const env = { STOCKADE_LEDGER_BLOCK_MAX_MS: '20' };
  const p = runCli(['serve', '--data', dir.path, '--http', `127.0.0.1:${await freePort()}`, '--ingress', `127.0.0.1:${await freePort()}`], env);
  try {
    await p.waitFor(/stockade is running/);
    const ring = JSON.parse(await readFile(join(dir.path, 'ledger', 'keyring.json'), 'utf8')) as { records: Array<{ keyId: string }> };
    const keyId = ring.records[0]!.keyId;
    assert.is((await stat(join(dir.path, 'ledger'))).mode & 0o777, 0o700);
    assert.is((await stat(join(dir.path, 'ledger', `${keyId}.key`))).mode & 0o777, 0o600);
    assert.not.ok(
      p.lines.some((l) => l.includes('PRIVATE KEY')),
      'the key is never logged',
    );

    const run = JSON.parse(await readFile(join(dir.path, 'run.json'), 'utf8')) as { natsUrl: string };
    const nc = await connectNats({ servers: run.natsUrl });
    try {
      const tenant = freshTenant();
      const sub = nc.subscribe(ledgerSubject(tenant));
      const log = await EventLog.connect(nc);
      const seqs: number[] = [];
      for (let i = 0; i < 3; i++) {
        seqs.push(
          (
            await log.appendOrThrow(
              { tenant, aggregateType: 'scan', aggregateId: `s${i}` },
              [{ type: 'scan.recorded', data: { merkleRoot: 'ab'.repeat(32) } }],
              { expectedVersion: 'no_stream' },
            )
          ).position,
        );
      }
      log.close();
      for await (const m of sub) if (parseBlock(m.data, {}).lastSeq >= seqs[2]!) break;

      const ok = runCli(['ledger', 'verify', '--tenant', tenant, '--data', dir.path]);
      assert.is(await ok.exited, 0, ok.lines.join('\n'));
      assert.ok(
        ok.lines.some((l) => l.startsWith(`ok ${tenant}: 3 entries`) && l.includes(`keys ${keyId}`)),
        ok.lines.join('\n'),
      );
      const all = runCli(['ledger', 'verify', '--all', '--data', dir.path]);
      assert.is(await all.exited, 0, all.lines.join('\n'));
      assert.ok(
        all.lines.some((l) => /^OK: \d+ tenant\(s\), 0 broken/.test(l)),
        all.lines.join('\n'),
      );

      await (await jetstreamManager(nc)).streams.deleteMessage(EVENTS_STREAM, seqs[1]!);
      const broken = runCli(['ledger', 'verify', '--tenant', tenant, '--data', dir.path]);
      assert.is(await broken.exited, 1, broken.lines.join('\n'));
      assert.ok(
        broken.lines.some((l) => l.startsWith(`BROKEN ${tenant}: event_removed at height 2, EVENTS seq ${seqs[1]}`)),
        broken.lines.join('\n'),
      );
    } finally {
      await nc.close();
    }
    p.child.kill('SIGTERM');
    assert.is(await p.exited, 0);
  } finally {
    await p.kill();
    await dir.cleanup();
  }
});

test('verify without NATS_URL and without a running install says so', async () => {
  const dir = await tempDir();
  try {
    const v = runCli(['ledger', 'verify', '--all', '--data', dir.path], { NATS_URL: '' });
    assert.is(await v.exited, 1);
    assert.ok(
      v.lines.some((l) => l.includes('STK_ERR_CONFIG') && l.includes('no NATS_URL')),
      v.lines.join('\n'),
    );
  } finally {
    await dir.cleanup();
  }
});

test.run();
