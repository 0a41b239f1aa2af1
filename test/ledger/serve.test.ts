import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { ensureNatsCredentials, readNatsCredentials } from '../../src/nats/auth.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { rejects } from '../helpers/assert.ts';
import { EventLog, EVENTS_STREAM } from '../../src/log/mod.ts';
import { freePort } from '../../src/nats/server.ts';
import { ledgerSubject, parseBlock } from '../../src/ledger/format.ts';
import { tempDir } from '../helpers/nats.ts';
import { runCli } from '../helpers/proc.ts';
import { freshTenant, intruderConnection } from './fixture.ts';

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
    const nc = await intruderConnection(dir.path, run.natsUrl);
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

test('the embedded nats-server has the accounts of separate mode: only the sealer writes LEDGER, the app cannot delete events', async () => {
  const dir = await tempDir();
  const p = runCli(['serve', '--data', dir.path, '--http', `127.0.0.1:${await freePort()}`, '--ingress', `127.0.0.1:${await freePort()}`], {
    STOCKADE_LEDGER_BLOCK_MAX_MS: '20',
  });
  const conns: NatsConnection[] = [];
  try {
    await p.waitFor(/stockade is running/);
    const path = join(dir.path, 'nats', 'credentials.json');
    assert.is((await stat(path)).mode & 0o777, 0o600);
    const creds = JSON.parse(await readFile(path, 'utf8')) as { users: Record<string, string> };
    assert.equal(Object.keys(creds.users).sort(), ['app', 'auditor', 'ops', 'sealer']);
    const run = JSON.parse(await readFile(join(dir.path, 'run.json'), 'utf8')) as { natsUrl: string };
    assert.not.match(run.natsUrl, '@', 'run.json holds no password');
    await rejects(connectNats({ servers: run.natsUrl }), 'STK_ERR_NATS_UNREACHABLE');
    await rejects(connectNats({ servers: run.natsUrl, user: 'app', pass: 'wrong' }), 'STK_ERR_NATS_UNREACHABLE');
    const app = await connectNats({ servers: run.natsUrl, user: 'app', pass: creds.users.app! });
    conns.push(app);

    // The application's own user appends (sealed by the sealer role on its own connection)…
    const tenant = freshTenant();
    const sub = app.subscribe(ledgerSubject(tenant));
    const log = await EventLog.connect(app);
    const seq = (
      await log.appendOrThrow({ tenant, aggregateType: 'scan', aggregateId: 's1' }, [{ type: 'scan.recorded', data: {} }], { expectedVersion: 'no_stream' })
    ).position;
    log.close();
    for await (const m of sub) if (parseBlock(m.data, {}).lastSeq >= seq) break;

    // …but can neither write the ledger nor delete or purge what is sealed.
    const js = jetstream(app, { timeout: 3000 });
    const jsm = await jetstreamManager(app, { timeout: 3000 });
    for (const [what, write] of [
      ['publish a block', () => js.publish(ledgerSubject(tenant), '{}')],
      ['publish a checkpoint', () => js.publish(`ledger-checkpoint.${tenant}`, 'x')],
      ['delete an event', () => jsm.streams.deleteMessage(EVENTS_STREAM, seq)],
      ['purge EVENTS', () => jsm.streams.purge(EVENTS_STREAM)],
      ['delete EVENTS', () => jsm.streams.delete(EVENTS_STREAM)],
      ['delete LEDGER', () => jsm.streams.delete('LEDGER')],
    ] as const) {
      const err = await write().then(
        () => null,
        (e: Error) => e,
      );
      assert.ok(err && /Permissions Violation/.test(err.message), `app may ${what}: ${err?.message}`);
    }
    const v = runCli(['ledger', 'verify', '--tenant', tenant, '--data', dir.path]);
    assert.is(await v.exited, 0, v.lines.join('\n'));
    p.child.kill('SIGTERM');
    assert.is(await p.exited, 0);
  } finally {
    for (const c of conns) await c.close().catch(() => {});
    await p.kill();
    await dir.cleanup();
  }
});

test('generated NATS passwords are plain strings to nats-server (a letter first): a leading digit made it refuse its config', async () => {
  const dir = await tempDir();
  try {
    for (let i = 0; i < 40; i++) {
      const c = await ensureNatsCredentials(join(dir.path, String(i)));
      for (const pass of Object.values(c.users)) assert.match(pass, /^stk[0-9a-f]{64}$/);
      assert.equal(await readNatsCredentials(join(dir.path, String(i))), c, 'read back as made');
    }
  } finally {
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
