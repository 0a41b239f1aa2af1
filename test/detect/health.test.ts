import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { agentCommandDecider } from '../../commands/agent-commands/decider.ts';
import { agentDecider } from '../../commands/agents/decider.ts';
import type { AgentHeartbeat } from '../../commands/agents/events.ts';
import type { HeartbeatHealth } from '../../src/detect/agents.ts';
import { DETECTOR_BUCKET } from '../../src/detect/alert-writer.ts';
import { readCheckpoint } from '../../src/detect/checkpoint.ts';
import { loadPack } from '../../src/detect/pack.ts';
import { partitionOf } from '../../src/log/mod.ts';
import { execute } from '../../src/domain/execute.ts';
import { newId } from '../../src/ids.ts';
import { AGENT_ACTOR, ADMIN, ANY_CONTEXT, createTenant, enrollAgent, freshTenant } from '../helpers/events.ts';
import { type DetectFixture, detectFixture } from './fixture.ts';

/**
 * A core-only tenant (no product) gets the core alerts: agent restarted unexpectedly, clock skew,
 * stopped or silent, back after silence, certificate near expiry. Silence and expiry are decided
 * at ticks of the test's clock: no sleeping.
 */
const test = suite('detector: core alerts for a core-only tenant');
let f: DetectFixture;
test.before(async () => {
  f = await detectFixture();
});
test.after(async () => {
  await f?.cleanup();
});

const pack = await loadPack();
const ruleOf = (file: string) => pack.find((r) => r.file === file)!.id;
const RESTARTED = ruleOf('agent_health_restarted_unexpectedly.yml');
const SKEW = ruleOf('agent_health_clock_skew.yml');
const SILENT = ruleOf('agent_health_stopped_or_silent.yml');
const BACK = ruleOf('agent_health_back.yml');
const CERT = ruleOf('certificate_near_expiry.yml');
const ISOLATED = ruleOf('host_isolated.yml');

async function beat(tenant: string, agentId: string, h: HeartbeatHealth): Promise<number> {
  const heartbeat = { inventory: null, ...h } as AgentHeartbeat;
  const r = await execute(f.log, { tenant, id: agentId }, agentDecider, { kind: 'heartbeat', heartbeat }, { actor: AGENT_ACTOR(agentId) });
  return r.position;
}

async function byRule(tenant: string): Promise<Map<string, { count: number; status: string }>> {
  const out = new Map<string, { count: number; status: string }>();
  for (const a of await f.alerts(tenant)) out.set((a.events[0]!.data as { rule: string }).rule, { count: a.state.group!.count, status: a.state.status });
  return out;
}

test('restart without a clean stop, a skewed clock, a clean stop, silence and the way back', async () => {
  const tenant = freshTenant('core');
  await createTenant(f.log, tenant);
  const { agentId } = await enrollAgent(f.log, tenant, 'core-01');
  const now = () => new Date().toISOString();
  await beat(tenant, agentId, { agentStartedAt: '2026-03-01T08:00:00.000Z', agentTime: now() });
  await beat(tenant, agentId, { agentStartedAt: '2026-03-01T09:00:00.000Z', agentTime: now() });
  await beat(tenant, agentId, { stopping: true });
  await beat(tenant, agentId, { agentStartedAt: '2026-03-01T10:00:00.000Z' });
  let pos = await beat(tenant, agentId, { agentTime: new Date(Date.now() + 600_000).toISOString() });
  await f.settled(tenant, { events: pos });
  let rules = await byRule(tenant);
  assert.equal(rules.get(RESTARTED), { count: 1, status: 'open' }, 'one unexpected restart: the start after a clean stop is not one');
  assert.ok(rules.get(SKEW), 'clock skew of ten minutes');
  assert.equal(rules.get(SILENT), { count: 1, status: 'open' }, 'the clean stop');
  assert.not.ok(rules.get(BACK));

  // Silence is decided at a tick of the test's clock, past the default 10 minutes.
  f.advance(11 * 60_000);
  await f.detector.tick();
  await f.detector.tick();
  rules = await byRule(tenant);
  assert.is(rules.get(SILENT)!.count, 2, 'silence counted on the same group as the stop, once for two ticks');

  pos = await beat(tenant, agentId, {});
  await f.settled(tenant, { events: pos });
  rules = await byRule(tenant);
  assert.equal(rules.get(BACK), { count: 1, status: 'open' });
  const back = (await f.alerts(tenant)).find((a) => (a.events[0]!.data as { rule: string }).rule === BACK)!;
  assert.is((back.events[0]!.data as { product: unknown }).product, null, 'a core alert');
  assert.is((back.events[0]!.data as { severity: string }).severity, 'low', 'informational reads as low');
});

test("an agent's certificate about to expire: one alert, not one a day", async () => {
  const tenant = freshTenant('cert');
  await createTenant(f.log, tenant);
  const agentId = newId();
  const r = await execute(
    f.log,
    { tenant, id: agentId },
    agentDecider,
    {
      kind: 'enroll',
      agent: {
        hostname: 'old-cert',
        os: 'linux',
        agentVersion: '1',
        certFingerprint: 'f'.repeat(64),
        certNotAfter: new Date(f.now() + 10 * 86_400_000).toISOString(),
      },
    },
    { actor: AGENT_ACTOR(agentId), known: 'new' },
  );
  await f.settled(tenant, { events: r.position });
  await f.detector.tick();
  f.advance(86_400_000);
  await f.detector.tick();
  f.advance(-86_400_000);
  const alerts = (await f.alerts(tenant)).filter((a) => (a.events[0]!.data as { rule: string }).rule === CERT);
  assert.is(alerts.length, 1);
  assert.is(alerts[0]!.state.group!.count, 1);
  const d = alerts[0]!.events[0]!.data as { details: Record<string, unknown> };
  assert.is(d.details.Purpose, 'agent-client');
  assert.is(d.details.Host, 'old-cert');
});

test('host isolation is an edr rule: an isolate-host that succeeded raises it; a failed one does not', async () => {
  const tenant = freshTenant('iso');
  await createTenant(f.log, tenant, ['edr']);
  const { agentId } = await enrollAgent(f.log, tenant, 'iso-01');
  let pos = 0;
  for (const outcome of ['failed', 'succeeded'] as const) {
    const id = newId();
    await execute(
      f.log,
      { tenant, id },
      agentCommandDecider,
      { kind: 'dispatch', command: { agentId, action: 'isolate-host', args: {} }, context: ANY_CONTEXT },
      { actor: ADMIN, known: 'new' },
    );
    pos = (await execute(f.log, { tenant, id }, agentCommandDecider, { kind: 'complete', agentId, outcome, output: '' }, { actor: AGENT_ACTOR(agentId) }))
      .position;
  }
  await f.settled(tenant, { events: pos });
  const rules = await byRule(tenant);
  assert.equal(rules.get(ISOLATED), { count: 1, status: 'open' });
});

test('a large book is checkpointed less often: at most checkpointCharsPerS characters a second on average', async () => {
  const g = await detectFixture({ checkpointCharsPerS: 1000 });
  try {
    const tenant = freshTenant('ckpt');
    await createTenant(g.log, tenant);
    let pos = 0;
    for (let i = 0; i < 5; i++) pos = (await enrollAgent(g.log, tenant, `ckpt-${i}`)).position;
    await g.settled(tenant, { events: pos });
    const kv = await g.log.streams.bucket(DETECTOR_BUCKET);
    const checkpointed = async () => (await readCheckpoint<object>(kv, partitionOf(tenant)))!;
    await g.detector.tick();
    const first = await checkpointed();
    assert.ok(first.evSeq >= pos, 'the first tick writes one');
    // Its text at 1,000 characters a second: the next one is due that many milliseconds later.
    const pauseMs = JSON.stringify(first.state).length;
    assert.ok(pauseMs > 1000, `five agents are more than a second's worth: ${pauseMs}`);
    const agentId = (await enrollAgent(g.log, tenant, 'ckpt-late')).agentId;
    const later = await execute(
      g.log,
      { tenant, id: agentId },
      agentDecider,
      { kind: 'heartbeat', heartbeat: { inventory: null } as AgentHeartbeat },
      { actor: AGENT_ACTOR(agentId) },
    );
    await g.settled(tenant, { events: later.position });
    await g.detector.tick();
    g.advance(pauseMs - 1);
    await g.detector.tick();
    assert.is((await checkpointed()).evSeq, first.evSeq, 'not before its pause');
    g.advance(1);
    await g.detector.tick();
    assert.ok((await checkpointed()).evSeq >= later.position, 'written once the pause is over');
  } finally {
    await g.cleanup();
  }
});

test.run();
