import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { agentDecider } from '../../commands/agents/decider.ts';
import type { AgentHeartbeat } from '../../commands/agents/events.ts';
import { execute } from '../../src/domain/execute.ts';
import type { EventLog } from '../../src/log/mod.ts';
import { AGENT_ACTOR, createTenant, enrollAgent, freshTenant } from '../helpers/events.ts';
import { type DetectFixture, detectFixture } from './fixture.ts';

/**
 * A first start on a log that already has a past: the detector learns the agents from it but
 * raises nothing for it — not the restarts it shows, nor the silence of agents already silent.
 */
const test = suite('detector: the first start reads the past without alerting on it');
const tenant = freshTenant('past');
let old = '';
let f: DetectFixture;

async function beat(log: EventLog, agentId: string, h: object): Promise<number> {
  const heartbeat = { inventory: null, ...h } as AgentHeartbeat;
  return (await execute(log, { tenant, id: agentId }, agentDecider, { kind: 'heartbeat', heartbeat }, { actor: AGENT_ACTOR(agentId) })).position;
}

test.before(async () => {
  f = await detectFixture({}, async (log) => {
    await createTenant(log, tenant);
    old = (await enrollAgent(log, tenant, 'old-host')).agentId;
    await beat(log, old, { agentStartedAt: 'S1' });
    await beat(log, old, { agentStartedAt: 'S2' });
  });
});
test.after(async () => {
  await f?.cleanup();
});

test('past restarts raise nothing; an agent silent since before the start is not reported, a live one is; the past hostname is known', async () => {
  const live = await enrollAgent(f.log, tenant, 'new-host');
  await f.settled(tenant, { events: live.position });
  assert.equal(await f.alerts(tenant), [], 'nothing for the past');
  f.advance(11 * 60_000);
  await f.detector.tick();
  const alerts = await f.alerts(tenant);
  assert.equal(
    alerts.map((a) => (a.events[0]!.data as { agentId: string }).agentId),
    [live.agentId],
  );
  // The old agent's host name was learned from the past: a restart now is raised with it.
  const pos = await beat(f.log, old, { agentStartedAt: 'S3' });
  await f.settled(tenant, { events: pos });
  const restart = (await f.alerts(tenant)).find((a) => (a.events[0]!.data as { title: string }).title === 'Agent Restarted Unexpectedly')!;
  assert.is((restart.events[0]!.data as { detection: { hostname: string } }).detection.hostname, 'old-host');
});

test.run();
