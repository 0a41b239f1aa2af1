import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Level } from 'level';
import { PROJECTIONS } from '../../projections/index.ts';
import { EventLog } from '../../src/log/mod.ts';
import { createLogger } from '../../src/logger.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { Projector } from '../../src/projector/projector.ts';
import { alertDecider } from '../../commands/alerts/decider.ts';
import { execute } from '../../src/domain/execute.ts';
import { natsFixture, tempDir } from '../helpers/nats.ts';
import { createTenant, enrollAgent, freshTenant, raiseAlert } from '../helpers/events.ts';

const test = suite('projector crash: kill -9 mid-stream, restart, compare with a rebuild');
const root = join(import.meta.dirname, '../..');

function child(env: Record<string, string>) {
  const p = spawn(process.execPath, ['--import', 'tsx', join(root, 'test/projector/child-projector.ts')], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters: Array<{ test: (o: any) => boolean; resolve: (o: any) => void }> = [];
  let buf = '';
  p.stdout!.on('data', (c: Buffer) => {
    buf += c.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      let o: any;
      try {
        o = JSON.parse(line);
      } catch {
        continue;
      }
      for (const w of [...waiters])
        if (w.test(o)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(o);
        }
    }
  });
  const exited = new Promise<void>((r) => p.on('exit', () => r()));
  return {
    until: (t: (o: any) => boolean) =>
      new Promise<any>((resolve, reject) => {
        waiters.push({ test: t, resolve });
        void exited.then(() => reject(new Error(`child exited; output:\n${lines.slice(-10).join('\n')}`)));
      }),
    async kill() {
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      await exited;
    },
  };
}

test('every read model after a crash and restart is identical to a rebuild from the log', async () => {
  const nats = await natsFixture();
  const dir = await tempDir('stk-crash-');
  const nc = await connectNats({ servers: nats.url });
  const level = join(dir.path, 'level');
  let c1: ReturnType<typeof child> | undefined;
  let c2: ReturnType<typeof child> | undefined;
  try {
    const log = await EventLog.connect(nc);
    const tenants = [freshTenant('a'), freshTenant('b')];
    const agents: Array<[string, string]> = [];
    for (const t of tenants) {
      await createTenant(log, t, ['edr']);
      agents.push([t, (await enrollAgent(log, t)).agentId]);
    }
    // Enough commits, over many aggregates and with updates, that the kill lands mid-stream.
    const alerts: Array<[string, string]> = [];
    for (let i = 0; i < 400; i++) {
      const [t, agentId] = agents[i % 2]!;
      const rs = await Promise.all(Array.from({ length: 4 }, () => raiseAlert(log, t, agentId, { severity: i % 3 ? 'low' : 'critical' })));
      for (const r of rs) alerts.push([t, r.alertId]);
    }
    for (const [t, id] of alerts.filter((_, i) => i % 5 === 0))
      await execute(log, { tenant: t, id: id }, alertDecider, { kind: 'acknowledge' }, { actor: { kind: 'operator', id: 'op' } });
    const target = await log.lastPosition();

    const env = { NATS_URL: nats.url, STK_LEVEL: level, STK_TARGET: String(target), STK_BATCH: '40' };
    c1 = child(env);
    const seen = await c1.until((o) => o.applied >= target / 3);
    await c1.kill();
    assert.ok(seen.applied < target, 'killed before the end of the stream');

    c2 = child(env);
    const restarted = await c2.until((o) => o.started !== undefined);
    assert.ok(restarted.started >= seen.applied, 'resumed from the stored position, not from zero');
    await c2.until((o) => o.caughtUp !== undefined);
    await c2.kill();

    const db = new Level<string, unknown>(level, { valueEncoding: 'json' });
    await db.open();
    try {
      const p = await Projector.open(db, log, PROJECTIONS, { durableName: 'projector_check', logger: createLogger({ level: 'warn' }) });
      assert.is(p.position, target);
      assert.is(
        (await p.store.forTenant(tenants[0]!).count('alerts')) + (await p.store.forTenant(tenants[1]!).count('alerts')),
        alerts.length,
        'every alert once',
      );
      assert.is(
        (await p.store.forTenant(tenants[0]!).count('alerts', { field: 'status', value: 'acknowledged' })) +
          (await p.store.forTenant(tenants[1]!).count('alerts', { field: 'status', value: 'acknowledged' })),
        alerts.length / 5,
      );
      const afterCrash = new Map<string, unknown>();
      for (const m of PROJECTIONS) afterCrash.set(m.model, await p.store.admin.dump(m.model));
      await p.rebuild();
      for (const m of PROJECTIONS) assert.equal(await p.store.admin.dump(m.model), afterCrash.get(m.model), `model ${m.model} differs from its rebuild`);
    } finally {
      await db.close();
    }
  } finally {
    await c1?.kill();
    await c2?.kill();
    await nc.close();
    await nats.stop();
    await dir.cleanup();
  }
});

test.run();
