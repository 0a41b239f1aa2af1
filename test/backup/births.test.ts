import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { alertDecider } from '../../commands/alerts/decider.ts';
import { backupStreams } from '../../src/backup/backup.ts';
import { restoreStreams } from '../../src/backup/restore.ts';
import { execute } from '../../src/domain/execute.ts';
import { planReport, writeReport } from '../../src/ingress/report.ts';
import { commitsOf, EventLog } from '../../src/log/mod.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { createTenant, enrollAgent, freshTenant } from '../helpers/events.ts';
import { doorOf, natsFixture, tempDir } from '../helpers/nats.ts';

const test = suite('backup and restore of commits that carry births');

test('an alert born in a report is found and changed in the restored stream, whose records all carry the time of the restore', async () => {
  const source = await natsFixture();
  const target = await natsFixture();
  const dirs = await tempDir('stk-backup-births-');
  const nc = await connectNats({ servers: source.url });
  const tnc = await connectNats({ servers: target.url });
  try {
    const log = await EventLog.connect(nc);
    const t = freshTenant('bb');
    await createTenant(log, t, ['edr']);
    const { agentId } = await enrollAgent(log, t);
    const agent = { tenant: t, agentId, version: 1, revoked: false };
    const at = new Date().toISOString();
    let last = 0;
    for (let i = 0; i < 3; i++) {
      const plan = planReport({ ...agent, version: agent.version + i }, ['edr'], {
        agentId,
        batchId: `b${i}`,
        events: [
          { kind: 'heartbeat', at, data: {} },
          { kind: 'alert', at, data: { rule: 'edr.x', severity: 'high', title: `alert ${i}` } },
        ],
      });
      assert.ok(plan.ok);
      last = (await writeReport(log, { ...agent, version: agent.version + i }, plan)).position;
    }
    const record = (await log.readTenant(t, last - 1))[0]!;
    const born = commitsOf(record).find((p) => p.aggregate.type === 'alert')!;
    const out = join(dirs.path, 'backup');
    await backupStreams({ streams: log.streams, out });
    await restoreStreams({ streams: await doorOf(tnc), from: [out] });

    const restored = await EventLog.connect(tnc, { skipEnsureStream: true });
    try {
      const alert = { tenant: t, aggregateType: 'alert', aggregateId: born.aggregate.id };
      const read = await restored.readAggregate(alert);
      assert.equal(
        read.events.map((e) => (e.data as { title: string }).title),
        ['alert 2'],
      );
      const ack = await execute(
        restored,
        { tenant: t, id: born.aggregate.id },
        alertDecider,
        { kind: 'acknowledge' },
        { actor: { kind: 'operator', id: 'op' } },
      );
      assert.is(ack.version, 2);
      assert.equal(
        (await restored.readAggregate(alert)).events.map((e) => e.type),
        ['alert.raised', 'alert.acknowledged'],
      );
    } finally {
      restored.close();
    }
  } finally {
    await tnc.close().catch(() => {});
    await nc.close().catch(() => {});
    await source.stop();
    await target.stop();
    await dirs.cleanup();
  }
});

test.run();
