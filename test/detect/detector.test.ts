import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { alertDecider } from '../../commands/alerts/decider.ts';
import { AlertEvents } from '../../commands/alerts/events.ts';
import { agentDecider } from '../../commands/agents/decider.ts';
import { detectionDecider } from '../../commands/detection/decider.ts';
import { DETECTION_SETTINGS_ID } from '../../commands/detection/events.ts';
import { execute } from '../../src/domain/execute.ts';
import { loadPack } from '../../src/detect/pack.ts';
import { detectorConsumers } from '../../src/detect/partition.ts';
import { partitionOf } from '../../src/log/mod.ts';
import { TELEMETRY_STREAM, telemetryPartitionFilter } from '../../src/telemetry/stream.ts';
import { AGENT_ACTOR, ADMIN, createTenant, enrollAgent, freshTenant } from '../helpers/events.ts';
import { curlPipe, type DetectFixture, detectFixture, proc } from './fixture.ts';

const test = suite('detector: telemetry to grouped alerts');
let f: DetectFixture;
test.before(async () => {
  f = await detectFixture();
});
test.after(async () => {
  await f?.cleanup();
});

const DOWNLOAD_PIPED = (await loadPack()).find((r) => r.file === 'proc_creation_lnx_download_piped_to_shell.yml')!;

test('matching items of one rule on one host make one alert with their count, refs, rule version and ATT&CK ids; another host its own', async () => {
  const tenant = freshTenant('det');
  await createTenant(f.log, tenant, ['edr']);
  const a = await enrollAgent(f.log, tenant, 'web-01');
  const b = await enrollAgent(f.log, tenant, 'web-02');
  const benign = Array.from({ length: 50 }, (_, i) => proc({ pid: 100 + i }));
  const seqA = await f.telemetry(tenant, a.agentId, [curlPipe(1), ...benign, curlPipe(2), curlPipe(3)]);
  const seqB = await f.telemetry(tenant, b.agentId, [curlPipe(4), proc(), curlPipe(5)]);
  await f.settled(tenant, { events: b.position, telemetry: seqB.at(-1)! });

  const alerts = (await f.alerts(tenant)).filter((x) => x.events[0]!.data && (x.events[0]!.data as { rule: string }).rule === DOWNLOAD_PIPED.id);
  assert.is(alerts.length, 2);
  const onA = alerts.find((x) => (x.events[0]!.data as { agentId: string }).agentId === a.agentId)!;
  const onB = alerts.find((x) => (x.events[0]!.data as { agentId: string }).agentId === b.agentId)!;
  assert.is(onA.state.group!.count, 3);
  assert.is(onB.state.group!.count, 2);
  const raised = onA.events[0]!.data as { detection: Record<string, unknown>; severity: string; title: string };
  assert.is(raised.severity, 'high');
  assert.is(raised.title, DOWNLOAD_PIPED.title);
  assert.is(raised.detection.ruleVersion, DOWNLOAD_PIPED.version);
  assert.equal(raised.detection.attack, ['T1059.004', 'T1105']);
  assert.is(raised.detection.hostname, 'web-01');
  const refs = onA.events.flatMap((e) =>
    e.type === AlertEvents.raised
      ? (e.data as { detection: { refs: { seq: number }[] } }).detection.refs.map((r) => r.seq)
      : ((e.data as { seqs?: number[] }).seqs ?? []),
  );
  assert.equal(refs, [seqA[0], seqA[51], seqA[52]], 'the matching TELEMETRY sequences, each once');
  assert.is(onA.events[0]!.actor.id, 'detector');
});

test('after the alert is acknowledged the next match raises a new alert; before that the count goes on', async () => {
  const tenant = freshTenant('det');
  await createTenant(f.log, tenant, ['edr']);
  const a = await enrollAgent(f.log, tenant, 'db-01');
  let seqs = await f.telemetry(tenant, a.agentId, [curlPipe(1)]);
  await f.settled(tenant, { events: a.position, telemetry: seqs[0]! });
  const [first] = await f.alerts(tenant);
  const ack = await execute(f.log, { tenant, id: first!.id }, alertDecider, { kind: 'acknowledge' }, { actor: ADMIN });
  seqs = await f.telemetry(tenant, a.agentId, [curlPipe(2), curlPipe(3)]);
  await f.settled(tenant, { events: ack.position, telemetry: seqs[1]! });
  const alerts = await f.alerts(tenant);
  assert.is(alerts.length, 2);
  const second = alerts.find((x) => x.id !== first!.id)!;
  assert.is(second.state.status, 'open');
  assert.is(second.state.group!.count, 2);
  assert.is(alerts.find((x) => x.id === first!.id)!.state.group!.count, 1, 'the acknowledged alert counted nothing more');
});

test('products gate rules: without edr, process telemetry raises nothing', async () => {
  const tenant = freshTenant('core');
  await createTenant(f.log, tenant);
  const a = await enrollAgent(f.log, tenant);
  const seqs = await f.telemetry(tenant, a.agentId, [curlPipe(1)]);
  await f.settled(tenant, { events: a.position, telemetry: seqs[0]! });
  assert.equal(await f.alerts(tenant), []);
});

test('tenant settings: a rule turned off raises nothing, a level override and an exclusion apply, a custom rule raises', async () => {
  const tenant = freshTenant('cfg');
  await createTenant(f.log, tenant, ['edr']);
  const a = await enrollAgent(f.log, tenant);
  const at = { tenant, id: DETECTION_SETTINGS_ID };
  const tmp = (await loadPack()).find((r) => r.file === 'proc_creation_lnx_exec_from_tmp.yml')!;
  await execute(f.log, at, detectionDecider, { kind: 'configure', ruleId: DOWNLOAD_PIPED.id, setting: { enabled: false } }, { actor: ADMIN });
  await execute(
    f.log,
    at,
    detectionDecider,
    { kind: 'configure', ruleId: tmp.id, setting: { level: 'critical', exclude: { User: ['build*'] } } },
    { actor: ADMIN },
  );
  const yaml = [
    'title: Netcat Run',
    'id: 0d7d9a4e-5e0c-4c36-9a64-3b3b7d1b2a01',
    'logsource:',
    '    product: linux',
    '    category: process_creation',
    'detection:',
    '    selection:',
    '        Image|endswith: /nc',
    '    condition: selection',
    'level: low',
  ].join('\n');
  const last = await execute(
    f.log,
    at,
    detectionDecider,
    { kind: 'save-custom', rule: { ruleId: '0d7d9a4e-5e0c-4c36-9a64-3b3b7d1b2a01', name: 'nc.yml', title: 'Netcat Run', version: 'v', yaml } },
    { actor: ADMIN },
  );
  await f.settled(tenant, { events: last.position });
  const seqs = await f.telemetry(tenant, a.agentId, [
    curlPipe(1),
    proc({ exe: '/tmp/x/run', user: 'builder' }),
    proc({ exe: '/tmp/x/run', user: 'mallory' }),
    proc({ exe: '/usr/bin/nc', name: 'nc', cmdline: 'nc -l 4444' }),
  ]);
  await f.settled(tenant, { telemetry: seqs.at(-1)! });
  const rules = (await f.alerts(tenant)).map((x) => x.events[0]!.data as { rule: string; severity: string; details: { User?: string } });
  assert.equal(rules.map((r) => r.rule).sort(), [tmp.id, '0d7d9a4e-5e0c-4c36-9a64-3b3b7d1b2a01'].sort());
  const fromTmp = rules.find((r) => r.rule === tmp.id)!;
  assert.is(fromTmp.severity, 'critical');
});

test('a crash between writing and acking: the restarted detector counts nothing twice', async () => {
  const tenant = freshTenant('crash');
  await createTenant(f.log, tenant, ['edr']);
  const a = await enrollAgent(f.log, tenant);
  const seqs = await f.telemetry(tenant, a.agentId, [curlPipe(1), curlPipe(2)]);
  await f.settled(tenant, { events: a.position, telemetry: seqs[1]! });
  // The TELEMETRY consumer is put back as a crash before the ack leaves it: both items come again.
  const p = partitionOf(tenant);
  const name = detectorConsumers(p).telemetry;
  await f.restart({
    crash: true,
    between: () =>
      f.log.streams.resetConsumer(
        TELEMETRY_STREAM,
        { name, filter: telemetryPartitionFilter(p), ackPolicy: 'all', ackWaitMs: 60_000, maxAckPending: 100_000 },
        seqs[0]! - 1,
      ),
  });
  const more = await f.telemetry(tenant, a.agentId, [curlPipe(3)]);
  await f.settled(tenant, { telemetry: more[0]! });
  const alerts = await f.alerts(tenant);
  assert.is(alerts.length, 1);
  assert.is(alerts[0]!.state.group!.count, 3);
});

test('revoked agents: a heartbeat commit to a revoked agent is refused upstream; the detector ignores its silence', async () => {
  const tenant = freshTenant('rev');
  await createTenant(f.log, tenant);
  const a = await enrollAgent(f.log, tenant);
  const r = await execute(f.log, { tenant, id: a.agentId }, agentDecider, { kind: 'revoke', reason: 'gone' }, { actor: AGENT_ACTOR(a.agentId) });
  await f.settled(tenant, { events: r.position });
  f.advance(24 * 3600_000);
  await f.detector.tick();
  f.advance(-24 * 3600_000);
  assert.equal(await f.alerts(tenant), []);
});

test.run();
