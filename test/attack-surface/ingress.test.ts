import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { agentCommandDecider } from '../../commands/agent-commands/decider.ts';
import { ConsistencyTokens } from '../../src/api/consistency.ts';
import { execute } from '../../src/domain/execute.ts';
import { newId } from '../../src/ids.ts';
import { leafHash, merkleRoot } from '../../src/merkle/mod.ts';
import { itemBytes, type ScanItem } from '../../src/scan/items.ts';
import { findingIdOf } from '../../src/scan/runs/ids.ts';
import { ANY_CONTEXT, freshTenant } from '../helpers/events.ts';
import { enrolled, type Stack, stackFixture } from './fixture.ts';

/**
 * `POST /agent/v1/scan-runs` refuses what would make a run's root prove nothing: a root that is
 * not the stored items', items missing or out of order, a command that is not this agent's
 * run-scan, targets outside the allowlist, a product that is off. A refused seal records no run;
 * a resent seal writes nothing more.
 */
const test = suite('ingress: scan runs are sealed only over what is stored');

let s: Stack;
test.before(async () => {
  s = await stackFixture();
});
test.after(async () => {
  await s?.close();
});

const item = (port: number, state: ScanItem['state'] = 'closed'): ScanItem => ({ target: '192.0.2.10', address: '192.0.2.10', port, state });
const rootOf = (items: ScanItem[]) => Buffer.from(merkleRoot(items.map((i) => leafHash(itemBytes(i))))).toString('hex');
const seal = (items: ScanItem[], o: Record<string, unknown> = {}) => ({
  count: items.length,
  merkleRoot: rootOf(items),
  startedAt: '2026-03-01T00:00:00.000Z',
  finishedAt: '2026-03-01T00:01:00.000Z',
  targets: ['192.0.2.10'],
  ports: items.map((i) => i.port),
  ...o,
});

async function setup(products = ['attack-surface']) {
  const tenant = freshTenant('sri');
  const { enrollSecret } = await s.f.tenant(tenant, products);
  await s.f.call('PUT', `/api/v1/tenants/${tenant}/attack-surface`, { body: { targets: ['192.0.2.0/28'] } });
  return { tenant, agent: await enrolled(s, enrollSecret) };
}

test('a root that is not the stored items, items missing or out of order: refused, no run recorded; the missing part then seals it', async () => {
  const { tenant, agent } = await setup();
  try {
    const items = [item(22, 'open'), item(80), item(443)];
    const post = (body: Record<string, unknown>) => agent.poster.post('/agent/v1/scan-runs', { agentId: agent.client.agentId, runId: 'run-1', ...body });
    const wrong = await post({ offset: 0, items, seal: seal(items, { merkleRoot: 'a'.repeat(64) }) });
    assert.is(wrong.status, 400, JSON.stringify(wrong.body));
    assert.is(wrong.body.error.code, 'STK_ERR_SCAN_ROOT_MISMATCH');
    const runs = await s.f.call('GET', `/api/v1/tenants/${tenant}/scans`);
    assert.equal(runs.body.items, []);

    const gap = await post({ offset: 0, items: [], seal: seal([...items, item(8080)]) });
    assert.is(gap.status, 409, JSON.stringify(gap.body));
    assert.is(gap.body.error.code, 'STK_ERR_SCAN_RUN_INCOMPLETE');
    const part = await post({ offset: 3, items: [item(8080)] });
    assert.is(part.status, 202);
    const sealed = await post({ offset: 0, items: [], seal: seal([...items, item(8080)]) });
    assert.is(sealed.status, 201, JSON.stringify(sealed.body));
    assert.is(sealed.body.sealed.count, 4);
    assert.is(sealed.body.sealed.merkleRoot, rootOf([...items, item(8080)]));

    // A resent seal is a retry: the same answer, nothing written.
    const before = await s.f.stk.runtime.log.lastPosition();
    const again = await post({ offset: 0, items: [], seal: seal([...items, item(8080)]) });
    assert.is(again.status, 201);
    assert.is(again.body.sealed.duplicate, true);
    assert.is(await s.f.stk.runtime.log.lastPosition(), before);
    const other = await post({ offset: 0, items: [], seal: seal([...items, item(8081)]) });
    assert.is(other.status, 409);
    assert.is(other.body.error.code, 'STK_ERR_SCAN_RUN_CONFLICT');

    const shuffled = [item(443), item(22)];
    const order = await agent.poster.post('/agent/v1/scan-runs', {
      agentId: agent.client.agentId,
      runId: 'run-2',
      offset: 0,
      items: shuffled,
      seal: seal(shuffled),
    });
    assert.is(order.status, 400);
    assert.is(order.body.error.code, 'STK_ERR_SCAN_ROOT_MISMATCH');
  } finally {
    agent.close();
  }
});

test("a sealed run's consistency token covers the findings the seal wrote after the run's own commit", async () => {
  const { tenant, agent } = await setup();
  try {
    // nginx 1.18.0 in the Server header: a vulnerable-banner finding, written after scan.completed.
    const web: ScanItem = { ...item(80, 'open'), http: { status: 'HTTP/1.1 200 OK', server: 'nginx/1.18.0' } };
    const items = [item(22), web];
    const sealed = await agent.poster.post('/agent/v1/scan-runs', { agentId: agent.client.agentId, runId: 'run-f', offset: 0, items, seal: seal(items) });
    assert.is(sealed.status, 201, JSON.stringify(sealed.body));
    const key = 'asm:192.0.2.10:80:vulnerable-banner:nginx-resolver-off-by-one';
    const finding = await s.f.stk.runtime.log.lastCommit({ tenant, aggregateType: 'finding', aggregateId: findingIdOf(tenant, key) });
    assert.ok(finding, 'the seal wrote the finding');
    const tokens = await ConsistencyTokens.open(s.f.stk.runtime.streams);
    const position = tokens.read(tenant, sealed.body.consistencyToken);
    assert.ok(position !== null && position >= finding!.position, `token at ${position}, finding at ${finding!.position}`);
    const read = await s.f.call('GET', `/api/v1/tenants/${tenant}/findings?product=attack-surface&waitFor=${sealed.body.consistencyToken}`);
    assert.ok(
      read.body.items.some((f: { key: string }) => f.key === key),
      JSON.stringify(read.body.items.map((f: { key: string }) => f.key)),
    );
  } finally {
    agent.close();
  }
});

test("a command that is not this agent's run-scan is not found; a run of the agent's own must stay inside the allowlist", async () => {
  const { tenant, agent } = await setup();
  const other = await enrolled(s, (await s.f.call('POST', `/api/v1/tenants/${tenant}/enroll-secret/rotate`)).body.enrollSecret);
  try {
    const dispatch = async (agentId: string, action: string, args: Record<string, unknown>) => {
      const id = newId();
      await execute(
        s.f.stk.runtime.log,
        { tenant, id },
        agentCommandDecider,
        { kind: 'dispatch', command: { agentId, action, args }, context: { ...ANY_CONTEXT, allowlist: ['192.0.2.0/28'] } },
        { actor: { kind: 'operator', id: 'test' }, known: 'new' },
      );
      return id;
    };
    const items = [item(22)];
    const theirs = await dispatch(other.client.agentId, 'run-scan', { targets: ['192.0.2.10'], ports: [22] });
    const ping = await dispatch(agent.client.agentId, 'ping', {});
    for (const commandId of [theirs, ping, 'no-such-command']) {
      const r = await agent.poster.post('/agent/v1/scan-runs', {
        agentId: agent.client.agentId,
        runId: commandId,
        commandId,
        offset: 0,
        items,
        seal: seal(items),
      });
      assert.is(r.status, 404, `${commandId}: ${JSON.stringify(r.body)}`);
    }
    const outside = await agent.poster.post('/agent/v1/scan-runs', {
      agentId: agent.client.agentId,
      runId: 'own',
      offset: 0,
      items: [{ ...item(22), target: '203.0.113.5', address: '203.0.113.5' }],
      seal: { ...seal(items), targets: ['203.0.113.5'] },
    });
    assert.is(outside.status, 403, JSON.stringify(outside.body));
    assert.is(outside.body.error.code, 'STK_ERR_SCAN_TARGET_REFUSED');
  } finally {
    agent.close();
    other.close();
  }
});

test('schema and product: unknown item fields, oversized parts and a product that is off are refused before anything is stored', async () => {
  const { tenant, agent } = await setup();
  const off = await setup(['patch']);
  try {
    const post = (a: typeof agent, body: Record<string, unknown>) =>
      a.poster.post('/agent/v1/scan-runs', { agentId: a.client.agentId, runId: 'r', offset: 0, ...body });
    const extra = await post(agent, { items: [{ ...item(22), exploit: true }] });
    assert.is(extra.status, 400);
    assert.is(extra.body.error.code, 'STK_ERR_VALIDATION');
    const many = await post(agent, { items: Array.from({ length: 2001 }, (_, i) => item(i + 1)) });
    assert.is(many.status, 400);
    const disabled = await post(off.agent, { items: [item(22)], seal: seal([item(22)]) });
    assert.is(disabled.status, 403);
    assert.is(disabled.body.error.code, 'STK_ERR_PRODUCT_DISABLED');
    assert.is(disabled.body.error.data.product, 'attack-surface');
    const wrongAgent = await agent.poster.post('/agent/v1/scan-runs', { agentId: off.agent.client.agentId, runId: 'r', offset: 0, items: [] });
    assert.is(wrongAgent.status, 403);
    assert.is(wrongAgent.body.error.code, 'STK_ERR_AGENT_ID_MISMATCH');
    assert.equal((await s.f.call('GET', `/api/v1/tenants/${tenant}/scans`)).body.items, []);
  } finally {
    agent.close();
    off.agent.close();
  }
});

test.run();
