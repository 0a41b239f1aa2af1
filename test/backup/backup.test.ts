import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { jetstreamManager } from '@nats-io/jetstream';
import { Level } from 'level';
import { createHash } from 'node:crypto';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { backupStreams } from '../../src/backup/backup.ts';
import { restoreStreams } from '../../src/backup/restore.ts';
import { dataPaths } from '../../src/datadir.ts';
import { Keyring } from '../../src/ledger/keys.ts';
import { Sealer } from '../../src/ledger/sealer.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { rejects } from '../helpers/assert.ts';
import { createTenant, enrollAgent, freshTenant, raiseAlert, reportFinding } from '../helpers/events.ts';
import { clusterFixture, natsFixture, tempDir, doorOf } from '../helpers/nats.ts';
import { runCli } from '../helpers/proc.ts';
import { quiet } from '../ledger/fixture.ts';
import { EventLog } from '../../src/log/mod.ts';

const test = suite('backup and restore of the streams');

/** Runs a CLI command to its end; returns its output lines and exit code. */
async function cli(args: string[]): Promise<{ code: number | null; out: string[] }> {
  const p = runCli(args);
  const code = await p.exited;
  return { code, out: p.lines };
}

/** Every key and value of a LevelDB folder, in key order. */
async function dump(dir: string): Promise<Array<[string, unknown]>> {
  const db = new Level<string, unknown>(dataPaths(dir).level, { valueEncoding: 'json' });
  await db.open();
  try {
    return await db.iterator().all();
  } finally {
    await db.close();
  }
}

test('a backup of a running install restores into a fresh NATS: the ledger verifies and the read models rebuild the same', async () => {
  const source = await natsFixture();
  const target = await natsFixture();
  const dirs = await tempDir('stk-backup-');
  const nc = await connectNats({ servers: source.url });
  const tnc = await connectNats({ servers: target.url });
  let sealer: Sealer | null = null;
  try {
    const log = await EventLog.connect(nc);
    sealer = await Sealer.start({
      streams: await doorOf(nc),
      keyring: await Keyring.open(join(dirs.path, 'keys'), { create: true }),
      logger: quiet,
      blockMaxEntries: 10,
      blockMaxMs: 50,
    });
    const tenants = [freshTenant('bk'), freshTenant('bk')];
    let last = 0;
    for (const [i, t] of tenants.entries()) {
      await createTenant(log, t, ['edr', 'patch']);
      const { agentId } = await enrollAgent(log, t);
      for (let k = 0; k < 12 + i * 5; k++) last = (await raiseAlert(log, t, agentId)).position;
      last = (await reportFinding(log, t, agentId)).position;
    }
    await sealer.waitSealed(last);
    await sealer.checkpoint();
    // The chains and the read models as they are when the backup is taken: the backup then records
    // itself in each tenant's log (and the restore too), which the copies are compared without.
    const vSource = await cli(['ledger', 'verify', '--all', '--nats-url', source.url]);
    const a = join(dirs.path, 'models-source');
    const ra = await cli(['projections', 'rebuild', '--data', a, '--nats-url', source.url]);
    assert.is(ra.code, 0, ra.out.join('\n'));

    // Online: the sealer keeps running while the backup reads both streams.
    const out = join(dirs.path, 'backup');
    const b = await cli(['backup', '--out', out, '--nats-url', source.url]);
    assert.is(b.code, 0, b.out.join('\n'));
    const manifestText = await readFile(join(out, 'manifest.json'), 'utf8');
    const manifest = JSON.parse(manifestText);
    const manifestSha256 = createHash('sha256').update(manifestText).digest('hex');
    assert.ok(
      b.out.some((l) => l.includes(`manifest sha256 ${manifestSha256}, recorded in the log of ${tenants.length} tenant(s)`)),
      b.out.join('\n'),
    );
    // Each tenant's log says a backup copied its records, pinned by the manifest's SHA-256; the sealer seals it.
    for (const t of tenants) {
      const taken = (await log.readTenant(t)).flatMap((rec) => rec.events).filter((e) => e.type === 'backup.taken');
      assert.is(taken.length, 1, t);
      const data = taken[0]!.data as { manifestSha256: string; kind: string; tenantRecords: number; streams: { EVENTS: { lastSeq: number } } };
      assert.equal([data.manifestSha256, data.kind, data.streams.EVENTS.lastSeq], [manifestSha256, 'full', last]);
      assert.ok(data.tenantRecords >= 14, JSON.stringify(data));
    }
    await sealer.waitSealed(await log.lastPosition());
    assert.is(manifest.streams.EVENTS.messages, last);
    assert.is(manifest.streams.EVENTS.lastSeq, last);
    assert.ok(manifest.streams.LEDGER.messages > 0);
    assert.is(manifest.tool, 'stockade');

    const r = await cli(['restore', '--from', out, '--nats-url', target.url]);
    assert.is(r.code, 0, r.out.join('\n'));
    assert.ok(
      r.out.some((l) => l.startsWith(`EVENTS: ${last} message(s) restored`)),
      r.out.join('\n'),
    );

    const vTarget = await cli(['ledger', 'verify', '--all', '--nats-url', target.url]);
    assert.is(vTarget.code, 0, vTarget.out.join('\n'));
    // The same chains (entries, blocks, head, root); the restored logs hold one record more, the
    // restore's own, not sealed until Stockade runs there.
    const chains = (v: { out: string[] }) =>
      v.out
        .filter((l) => l.startsWith('ok '))
        .map((l) => /^ok \S+: \d+ entries, \d+ blocks, height \d+, head \w+, root \w+/.exec(l)![0])
        .sort();
    assert.equal(chains(vTarget), chains(vSource));
    assert.ok(vTarget.out.filter((l) => l.startsWith('ok ') && l.endsWith(', 1 pending')).length === tenants.length, vTarget.out.join('\n'));
    for (const t of tenants)
      assert.ok(
        chains(vTarget).some((l) => l.startsWith(`ok ${t}: `)),
        vTarget.out.join('\n'),
      );

    // The same documents, key for key, from `stockade projections rebuild` over each NATS (the
    // restore's own event, its audit entry and the positions it moved left aside).
    const c = join(dirs.path, 'models-target');
    const rc = await cli(['projections', 'rebuild', '--data', c, '--nats-url', target.url]);
    assert.is(rc.code, 0, rc.out.join('\n'));
    const [da, dc] = [await dump(a), await dump(c)];
    assert.ok(da.length > 20);
    const restoredIds = new Set(
      (await Promise.all(tenants.map(async (t) => (await (await EventLog.connect(tnc)).readTenant(t)).flatMap((rec) => rec.events))))
        .flat()
        .filter((e) => e.type === 'backup.restored')
        .flatMap((e) => [e.id, e.aggregate.id]),
    );
    assert.is(restoredIds.size, tenants.length + 1); // an event per tenant, one restore id
    const kept = (d: Array<[string, unknown]>) => d.filter(([k]) => !k.startsWith('!meta!pos!') && ![...restoredIds].some((id) => k.includes(id)));
    assert.equal(kept(dc), kept(da));

    // A second restore into a NATS that now has the streams is refused, and changes nothing.
    const again = await cli(['restore', '--from', out, '--nats-url', target.url]);
    assert.is(again.code, 1);
    assert.ok(
      again.out.some((l) => l.includes('STK_ERR_RESTORE_TARGET_EXISTS')),
      again.out.join('\n'),
    );
  } finally {
    await sealer?.close().catch(() => {});
    await nc.close().catch(() => {});
    await tnc.close().catch(() => {});
    await source.stop();
    await target.stop();
    await dirs.cleanup();
  }
});

test('a backup whose file does not match its manifest is refused before anything is written', async () => {
  const source = await natsFixture();
  const target = await natsFixture();
  const dirs = await tempDir('stk-backup-');
  const nc = await connectNats({ servers: source.url });
  const tnc = await connectNats({ servers: target.url });
  try {
    const log = await EventLog.connect(nc);
    const t = freshTenant('bk');
    await createTenant(log, t);
    const { agentId } = await enrollAgent(log, t);
    await raiseAlert(log, t, agentId, { title: 'original title' });
    const out = join(dirs.path, 'backup');
    const b = await cli(['backup', '--out', out, '--nats-url', source.url]);
    assert.is(b.code, 0, b.out.join('\n'));

    // Rewrite one event inside the file, keeping every line well-formed.
    const tampered = join(dirs.path, 'tampered');
    await cp(out, tampered, { recursive: true });
    const file = join(tampered, 'EVENTS.jsonl');
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    const line = JSON.parse(lines.at(-1)!);
    line.data = Buffer.from(Buffer.from(line.data, 'base64').toString('utf8').replace('original title', 'harmless title')).toString('base64');
    lines[lines.length - 1] = JSON.stringify(line);
    await writeFile(file, `${lines.join('\n')}\n`);
    await rejects(restoreStreams({ streams: await doorOf(tnc), from: [tampered] }), 'STK_ERR_BACKUP_CORRUPT');

    // A line dropped, a manifest missing: refused the same way.
    const short = join(dirs.path, 'short');
    await cp(out, short, { recursive: true });
    await writeFile(join(short, 'EVENTS.jsonl'), `${lines.slice(0, -1).join('\n')}\n`);
    await rejects(restoreStreams({ streams: await doorOf(tnc), from: [short] }), 'STK_ERR_BACKUP_CORRUPT');
    await rejects(restoreStreams({ streams: await doorOf(tnc), from: [dirs.path] }), 'STK_ERR_BACKUP_CORRUPT');

    // Nothing reached the target: the untouched backup still restores into it.
    const names = await (await jetstreamManager(tnc)).streams.names().next();
    assert.equal(names, []);
    const r = await cli(['restore', '--from', out, '--nats-url', target.url]);
    assert.is(r.code, 0, r.out.join('\n'));
  } finally {
    await tnc.close().catch(() => {});
    await nc.close().catch(() => {});
    await source.stop();
    await target.stop();
    await dirs.cleanup();
  }
});

test('restore refuses a target where Stockade already created EVENTS', async () => {
  const source = await natsFixture();
  const dirs = await tempDir('stk-backup-');
  const nc = await connectNats({ servers: source.url });
  try {
    const log = await EventLog.connect(nc);
    await createTenant(log, freshTenant('bk'));
    const out = join(dirs.path, 'backup');
    assert.is((await cli(['backup', '--out', out, '--nats-url', source.url])).code, 0);
    await rejects(restoreStreams({ streams: await doorOf(nc), from: [out] }), 'STK_ERR_RESTORE_TARGET_EXISTS');
    // A backup never writes into a folder that already holds something.
    const again = await cli(['backup', '--out', out, '--nats-url', source.url]);
    assert.is(again.code, 1);
    assert.ok(
      again.out.some((l) => l.includes('STK_ERR_CONFIG')),
      again.out.join('\n'),
    );
  } finally {
    await nc.close().catch(() => {});
    await source.stop();
    await dirs.cleanup();
  }
});

test('increments: a full backup and the backups --since it restore together; a broken or foreign chain is refused', async () => {
  const source = await natsFixture();
  const target = await natsFixture();
  const other = await natsFixture();
  const dirs = await tempDir('stk-backup-');
  const nc = await connectNats({ servers: source.url });
  const tnc = await connectNats({ servers: target.url });
  const onc = await connectNats({ servers: other.url });
  let sealer: Sealer | null = null;
  try {
    const log = await EventLog.connect(nc);
    sealer = await Sealer.start({
      streams: await doorOf(nc),
      keyring: await Keyring.open(join(dirs.path, 'keys'), { create: true }),
      logger: quiet,
      blockMaxEntries: 10,
      blockMaxMs: 50,
    });
    const [t1, t2] = [freshTenant('inc'), freshTenant('inc')];
    await createTenant(log, t1);
    const { agentId } = await enrollAgent(log, t1);
    for (let i = 0; i < 7; i++) await sealer.waitSealed((await raiseAlert(log, t1, agentId)).position);
    const full = join(dirs.path, 'full');
    const inc1 = join(dirs.path, 'inc1');
    const inc2 = join(dirs.path, 'inc2');
    // Not recorded (the library's choice for tools that record elsewhere): the increments below count only the test's records.
    const m0 = await backupStreams({ streams: await doorOf(nc), out: full, record: false });
    await createTenant(log, t2);
    let last = 0;
    for (let i = 0; i < 4; i++) last = (await raiseAlert(log, t1, agentId)).position;
    await sealer.waitSealed(last);
    const b1 = await cli(['backup', '--out', inc1, '--since', full, '--nats-url', source.url]);
    assert.is(b1.code, 0, b1.out.join('\n'));
    const m1 = JSON.parse(await readFile(join(inc1, 'manifest.json'), 'utf8'));
    assert.is(m1.streams.EVENTS.afterSeq, m0.streams.EVENTS.lastSeq);
    assert.is(m1.streams.EVENTS.messages, last - m0.streams.EVENTS.lastSeq);
    // Nothing new since inc1 but inc1's own record in the logs of t1 and t2 (sealed before the
    // sealer stops): still a link of the chain.
    await sealer.waitSealed(await log.lastPosition());
    await sealer.close();
    sealer = null;
    const m2 = await backupStreams({ streams: await doorOf(nc), out: inc2, since: inc1, record: false });
    assert.is(m2.streams.EVENTS.messages, 2);
    assert.is(m2.streams.EVENTS.lastSeq, last + 2);

    await rejects(restoreStreams({ streams: await doorOf(tnc), from: [inc1] }), 'STK_ERR_BACKUP_CORRUPT');
    await rejects(restoreStreams({ streams: await doorOf(tnc), from: [full, inc2] }), 'STK_ERR_BACKUP_CORRUPT');
    await rejects(restoreStreams({ streams: await doorOf(tnc), from: [full, inc1, inc1] }), 'STK_ERR_BACKUP_CORRUPT');
    const r = await cli(['restore', '--from', full, '--from', inc1, '--from', inc2, '--nats-url', target.url]);
    assert.is(r.code, 0, r.out.join('\n'));
    const vSource = await cli(['ledger', 'verify', '--tenant', t1, '--tenant', t2, '--nats-url', source.url]);
    const vTarget = await cli(['ledger', 'verify', '--tenant', t1, '--tenant', t2, '--nats-url', target.url]);
    assert.is(vTarget.code, 0, vTarget.out.join('\n'));
    // The same sealed chains (inc1's records included); the restore's own record is not sealed yet.
    const chains = (v: { out: string[] }) =>
      v.out.filter((l) => l.startsWith('ok ')).map((l) => /^ok \S+: \d+ entries, \d+ blocks, height \d+, head \w+, root \w+/.exec(l)![0]);
    assert.equal(chains(vTarget), chains(vSource));
    assert.ok(
      vTarget.out.some((l) => l.startsWith(`ok ${t1}: 14 entries`) && l.endsWith(', 1 pending')),
      vTarget.out.join('\n'),
    );

    // An increment continues only the streams its base was read from.
    const olog = await EventLog.connect(onc);
    for (let i = 0; i < 3; i++) await createTenant(olog, freshTenant('inc'));
    await rejects(backupStreams({ streams: await doorOf(onc), out: join(dirs.path, 'foreign'), since: full }), 'STK_ERR_CONFIG');
  } finally {
    await sealer?.close().catch(() => {});
    for (const c of [nc, tnc, onc]) await c.close().catch(() => {});
    for (const f of [source, target, other]) await f.stop();
    await dirs.cleanup();
  }
});

test('restore --replicas 3 into a 3-node cluster: R3 streams, in order, and the ledger verifies', async () => {
  const source = await natsFixture();
  const cluster = await clusterFixture();
  const dirs = await tempDir('stk-backup-');
  const nc = await connectNats({ servers: source.url });
  const cnc = await connectNats({ servers: cluster.urls });
  let sealer: Sealer | null = null;
  try {
    const log = await EventLog.connect(nc);
    sealer = await Sealer.start({
      streams: await doorOf(nc),
      keyring: await Keyring.open(join(dirs.path, 'keys'), { create: true }),
      logger: quiet,
      blockMaxEntries: 10,
      blockMaxMs: 50,
    });
    const t = freshTenant('r3');
    await createTenant(log, t);
    const { agentId } = await enrollAgent(log, t);
    let last = 0;
    for (let i = 0; i < 30; i++) last = (await raiseAlert(log, t, agentId)).position;
    await sealer.waitSealed(last);
    const out = join(dirs.path, 'backup');
    await backupStreams({ streams: await doorOf(nc), out });
    const r = await cli(['restore', '--from', out, '--replicas', '3', '--nats-url', cluster.urls.join(',')]);
    assert.is(r.code, 0, r.out.join('\n'));
    const jsm = await jetstreamManager(cnc);
    for (const name of ['EVENTS', 'LEDGER']) assert.is((await jsm.streams.info(name)).config.num_replicas, 3, name);
    const v = await cli(['ledger', 'verify', '--tenant', t, '--nats-url', cluster.urls.join(',')]);
    assert.is(v.code, 0, v.out.join('\n'));
    assert.ok(
      v.out.some((l) => l.startsWith(`ok ${t}: 32 entries`)),
      v.out.join('\n'),
    );
  } finally {
    await sealer?.close().catch(() => {});
    await cnc.close().catch(() => {});
    await nc.close().catch(() => {});
    await source.stop();
    await cluster.stopAll();
    await dirs.cleanup();
  }
});

test('the read-only auditor user of infra/nats/ledger-auth.conf can copy the streams, but not record the backup: it fails saying so', async () => {
  const pass = { app: `app-${Math.random().toString(36).slice(2)}`, auditor: `aud-${Math.random().toString(36).slice(2)}` };
  // nats-server resolves the config's $STOCKADE_*_PASS from its environment, inherited from ours.
  for (const u of ['app', 'auditor', 'sealer', 'ops']) process.env[`STOCKADE_${u.toUpperCase()}_PASS`] ??= `${u}-${Math.random().toString(36).slice(2)}`;
  process.env.STOCKADE_APP_PASS = pass.app;
  process.env.STOCKADE_AUDITOR_PASS = pass.auditor;
  const source = await natsFixture({ extraConfig: await readFile(resolve(import.meta.dirname, '../../infra/nats/ledger-auth.conf'), 'utf8') });
  const dirs = await tempDir('stk-backup-');
  const nc = await connectNats({ servers: source.url, user: 'app', pass: pass.app });
  try {
    const log = await EventLog.connect(nc);
    const { position } = await createTenant(log, freshTenant('bk'));
    const out = join(dirs.path, 'backup');
    const p = runCli(['backup', '--out', out, '--nats-url', source.url], { STOCKADE_NATS_USER: 'auditor', STOCKADE_NATS_PASS: pass.auditor });
    assert.is(await p.exited, 1, p.lines.join('\n'));
    assert.ok(
      p.lines.some((l) => l.includes('STK_ERR_BACKUP_UNRECORDED') && l.includes('the backup is complete')),
      p.lines.join('\n'),
    );
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    assert.is(manifest.streams.EVENTS.messages, position);
    // No sealer ran: LEDGER does not exist, and the backup says so with an empty file.
    assert.is(manifest.streams.LEDGER.messages, 0);
    // The app user records it.
    const q = runCli(['backup', '--out', join(dirs.path, 'by-app'), '--nats-url', source.url], { STOCKADE_NATS_USER: 'app', STOCKADE_NATS_PASS: pass.app });
    assert.is(await q.exited, 0, q.lines.join('\n'));
    assert.ok(
      q.lines.some((l) => l.includes('recorded in the log of 1 tenant(s)')),
      q.lines.join('\n'),
    );
  } finally {
    await nc.close().catch(() => {});
    await source.stop();
    await dirs.cleanup();
  }
});

test.run();
