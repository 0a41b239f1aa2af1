import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { findingDecider, type FindingCommand } from '../../commands/findings/decider.ts';
import { type FindingCountsDoc, findingCountsId } from '../../projections/findings/projection.ts';
import { execute } from '../../src/domain/execute.ts';
import { newId } from '../../src/ids.ts';
import { docKey } from '../../src/store/keys.ts';
import { apiFixture, type ApiFixture } from '../helpers/api.ts';
import { enrollAgent, freshTenant, reportFinding } from '../helpers/events.ts';
import { settled } from '../people/helpers.ts';

/**
 * The overview's findings by state come from the counts the findings model keeps, through reports,
 * triage, re-triage, remediation by the system and reopening, and equal what the finding lists
 * count; counts younger than the tenant's oldest finding (a model not rebuilt) are not trusted.
 */
const test = suite('overview: findings by state from the findings model');

let f: ApiFixture;
const T = freshTenant('fc');
const ids: string[] = [];

const ACTOR = { kind: 'operator' as const, id: 'analyst' };
async function run(id: string, command: FindingCommand): Promise<void> {
  await execute(f.stk.runtime.log, { tenant: T, id }, findingDecider, command, { actor: ACTOR });
}

async function overviewFindings(): Promise<Record<string, number>> {
  await settled(f);
  const o = await f.call('GET', `/api/v1/tenants/${T}/overview`);
  assert.is(o.status, 200, JSON.stringify(o.body));
  return o.body.findings;
}

async function listed(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of ['open', 'accepted-risk', 'remediated', 'false-positive'])
    out[s] = (await f.call('GET', `/api/v1/tenants/${T}/findings?state=${s}&limit=1`)).body.total;
  return out;
}

test.before(async () => {
  f = await apiFixture();
  await f.tenant(T, ['patch']);
  const { agentId } = await enrollAgent(f.stk.runtime.log, T, 'fc-host');
  for (let i = 0; i < 8; i++) ids.push((await reportFinding(f.stk.runtime.log, T, agentId)).findingId);
  await run(ids[0]!, { kind: 'triage', state: 'accepted-risk', reason: 'compensating control' });
  await run(ids[1]!, { kind: 'triage', state: 'accepted-risk', reason: 'compensating control' });
  await run(ids[1]!, { kind: 'triage', state: 'false-positive', reason: 'not installed after all' });
  await run(ids[2]!, { kind: 'resolve', reason: 'no longer seen' });
  await run(ids[3]!, { kind: 'resolve', reason: 'no longer seen' });
  await run(ids[4]!, { kind: 'triage', state: 'false-positive', reason: 'wrong package' });
  // Remediated, then seen again: open once more.
  await run(ids[3]!, {
    kind: 'observe',
    ref: 'inventory-2',
    finding: {
      agentId,
      product: 'patch',
      title: 'openssl 3.0.1 is vulnerable',
      severity: 'high',
      subject: 'openssl',
      observedAt: '2026-01-02T00:00:00.000Z',
      key: 'k',
    },
  });
});
test.after(async () => {
  await f?.cleanup();
});

test('through triage, remediation and reopening the counts equal what the lists count', async () => {
  const counts = await overviewFindings();
  assert.equal(counts, { open: 4, 'accepted-risk': 1, remediated: 1, 'false-positive': 2 });
  assert.equal(counts, await listed());
});

test('the counts are what is read; counts younger than the oldest finding are not trusted', async () => {
  const store = f.stk.runtime.readModels!.projector.store;
  const sub = store.tenantSub('findings', store.activeGen('findings'), T);
  const key = docKey('finding-counts', findingCountsId(T));
  const kept = (await sub.get(key)) as FindingCountsDoc;
  assert.is(kept.firstFinding, ids[0]);
  try {
    await sub.put(key, { ...kept, byState: { ...kept.byState, open: 1000 } });
    assert.is((await overviewFindings()).open, 1000);
    await sub.put(key, { ...kept, firstFinding: newId(), byState: { ...kept.byState, open: 1000 } });
    assert.equal(await overviewFindings(), await listed());
    await sub.del(key);
    assert.equal(await overviewFindings(), await listed());
  } finally {
    await sub.put(key, kept);
  }
});

test.run();
