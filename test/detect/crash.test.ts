import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ALERT, AlertEvents, type AlertOccurred, type AlertRaised } from '../../commands/alerts/events.ts';
import { DELIVERY, DeliveryEvents } from '../../commands/deliveries/events.ts';
import { channelsDecider } from '../../commands/notify/decider.ts';
import { CHANNELS_ID } from '../../commands/notify/events.ts';
import { detectorConsumers } from '../../src/detect/partition.ts';
import { execute } from '../../src/domain/execute.ts';
import { newId } from '../../src/ids.ts';
import { EventLog, partitionOf, tenantFilter } from '../../src/log/mod.ts';
import { canonicalJson } from '../../src/merkle/canonical-json.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { openInstallBox } from '../../src/notify/install-box.ts';
import { parseChannelInput, sealChannel } from '../../src/notify/mod.ts';
import { TELEMETRY_STREAM, telemetryStreamSpec, telemetrySubject } from '../../src/telemetry/stream.ts';
import { ADMIN, createTenant, enrollAgent, freshTenant } from '../helpers/events.ts';
import { natsFixture, tempDir } from '../helpers/nats.ts';
import { type CliProcess, runCli } from '../helpers/proc.ts';
import { startHttpReceiver } from '../notify/receivers.ts';
import { curlPipe, proc } from './fixture.ts';
import { withDeadline } from '../helpers/deadline.ts';

/**
 * kill -9 of real detector processes (`stockade serve --role detector`) while telemetry streams in:
 * every matching TELEMETRY sequence ends up counted on exactly one alert, each group has one alert,
 * and each alert group gets one delivery, whatever the moments of the kills.
 */
const test = suite('detector: kill -9 mid-stream loses and doubles nothing');

const AGENTS = 6;
const CHUNK = 4000;

test('three processes, two of them killed mid-stream: every match counted once, one alert and one message per group', async () => {
  const nats = await natsFixture();
  const dir = await tempDir('stk-detect-crash-');
  const nc = await connectNats({ servers: nats.url });
  const log = await EventLog.connect(nc);
  const receiver = await startHttpReceiver(() => ({ status: 204 }));
  let child: CliProcess | null = null;
  try {
    await log.streams.ensureStream(telemetryStreamSpec());
    const tenant = freshTenant('kill');
    await createTenant(log, tenant, ['edr']);
    const agents: string[] = [];
    for (let i = 0; i < AGENTS; i++) agents.push((await enrollAgent(log, tenant, `host-${i}`)).agentId);
    const { channel } = parseChannelInput(
      {
        kind: 'webhook',
        name: 'SOC',
        settings: { url: receiver.url, secret: 'stk_whsec_crash-test-secret-0123456789abcdef' },
        routing: { minSeverity: 'low', thresholds: [1] },
      },
      { allowLoopbackHttp: true },
    );
    const channelId = newId();
    const box = await openInstallBox(log.streams);
    await execute(
      log,
      { tenant, id: CHANNELS_ID },
      channelsDecider,
      { kind: 'save', channel: sealChannel(box, tenant, channelId, channel), create: true },
      { actor: ADMIN },
    );

    // Every 10th item of an agent matches "Download Piped", every 15th "Executed from /tmp" (some both).
    const expected = new Map<string, Set<number>>();
    let published = 0;
    let lastSeq = 0;
    const publish = async (n: number) => {
      const pending: Promise<void>[] = [];
      for (let k = 0; k < n; k++) {
        const i = published++;
        const agentId = agents[i % AGENTS]!;
        const nth = Math.floor(i / AGENTS);
        const pipe = nth % 10 === 0;
        const tmp = nth % 15 === 0;
        const item = pipe ? curlPipe(i) : proc({ pid: i });
        if (tmp) Object.assign(item, { exe: '/tmp/.x/run' });
        pending.push(
          log.streams.publish(telemetrySubject(tenant, agentId), canonicalJson(item), { msgId: `${agentId}.c.${i}` }).then((ack) => {
            lastSeq = Math.max(lastSeq, ack.seq);
            if (pipe) add(expected, `pipe/${agentId}`, ack.seq);
            if (tmp) add(expected, `tmp/${agentId}`, ack.seq);
          }),
        );
        if (pending.length >= 500) await Promise.all(pending.splice(0));
      }
      await Promise.all(pending);
    };

    const alertEvents = log.subscribe({ filter: tenantFilter(tenant) });
    let alertCount = 0;
    const waiters: Array<{ n: number; resolve: () => void }> = [];
    void (async () => {
      for await (const r of alertEvents) {
        if (r.aggregate.type !== ALERT) continue;
        alertCount += r.events.length;
        for (const w of waiters.splice(0))
          if (alertCount >= w.n) w.resolve();
          else waiters.push(w);
      }
    })();
    const alertEventsAtLeast = (n: number) =>
      withDeadline(new Promise<void>((resolve) => (alertCount >= n ? resolve() : waiters.push({ n, resolve }))), `${n} alert events`, 60_000).catch(
        (err: Error) => {
          throw new Error(`${err.message}; detector output:\n${child?.lines.slice(-20).join('\n')}`);
        },
      );

    const start = async () => {
      child = runCli(['serve', '--role', 'detector', '--data', dir.path, '--nats-url', nats.url], {
        STOCKADE_NOTIFY_ALLOW_LOOPBACK: '1',
      });
      await child.waitFor(/stockade is running/, 120_000);
    };

    // Each life is killed while items are still arriving, once it has written something.
    for (let life = 0; life < 2; life++) {
      await start();
      const arriving = publish(CHUNK);
      await alertEventsAtLeast(alertCount + 1);
      await child!.kill();
      await arriving;
    }
    await start();
    await publish(CHUNK);
    const expectedGroups = expected.size;
    // Done when the detector's TELEMETRY consumer has acked the last item (it acks after writing).
    const { telemetry } = detectorConsumers(partitionOf(tenant));
    await withDeadline(
      (async () => {
        for (;;) {
          const c = await log.streams.consumer(TELEMETRY_STREAM, telemetry);
          if (c && c.ackFloor >= lastSeq) return;
          await new Promise((r) => setTimeout(r, 100));
        }
      })(),
      'the detector to read every item',
      120_000,
    );

    // One message per group (thresholds [1]); at least once at the receiver.
    await withDeadline(
      (async () => {
        for (;;) {
          const ids = new Set(receiver.requests.map((q) => String(q.headers['stockade-delivery'])));
          if (ids.size >= expectedGroups) return;
          await new Promise((r) => setTimeout(r, 100));
        }
      })(),
      'every message to arrive',
      60_000,
    );
    const counted = new Map<string, number[]>();
    const alertsOf = new Map<string, Set<string>>();
    const queued = new Map<string, number>();
    for (const r of await log.readTenant(tenant)) {
      if (r.aggregate.type === DELIVERY) {
        for (const e of r.events)
          if (e.type === DeliveryEvents.queued)
            queued.set((e.data as { alertId: string }).alertId, (queued.get((e.data as { alertId: string }).alertId) ?? 0) + 1);
        continue;
      }
      if (r.aggregate.type !== ALERT) continue;
      for (const e of r.events) {
        if (e.type === AlertEvents.raised) {
          const d = e.data as AlertRaised;
          const key = `${d.rule === curlRule ? 'pipe' : 'tmp'}/${d.agentId}`;
          add(alertsOf, key, r.aggregate.id);
          counted.set(key, [...(counted.get(key) ?? []), ...d.detection!.refs.map((x) => x.seq)]);
          groupOfAlert.set(r.aggregate.id, key);
        } else if (e.type === AlertEvents.occurred) {
          const key = groupOfAlert.get(r.aggregate.id)!;
          counted.set(key, [...(counted.get(key) ?? []), ...(e.data as AlertOccurred).seqs]);
        }
      }
    }
    assert.equal([...counted.keys()].sort(), [...expected.keys()].sort());
    for (const [key, seqs] of expected) {
      const got = counted.get(key)!;
      assert.is(got.length, new Set(got).size, `${key}: a sequence counted twice`);
      assert.equal(new Set(got), seqs, `${key}: every match counted`);
      assert.is(alertsOf.get(key)!.size, 1, `${key}: one alert`);
    }
    assert.is(queued.size, expected.size);
    assert.ok(
      [...queued.values()].every((n) => n === 1),
      'one delivery per alert',
    );
    await alertEvents.stop();
  } finally {
    await (child as CliProcess | null)?.kill();
    await receiver.close();
    log.close();
    await nc.close();
    await nats.stop();
    await dir.cleanup();
  }
});

const groupOfAlert = new Map<string, string>();
const curlRule = (await import('../../src/detect/pack.ts').then((m) => m.loadPack())).find(
  (r) => r.file === 'proc_creation_lnx_download_piped_to_shell.yml',
)!.id;

function add<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  let s = m.get(k);
  if (!s) {
    s = new Set();
    m.set(k, s);
  }
  s.add(v);
}

test.run();
