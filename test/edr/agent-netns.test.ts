/**
 * The agent inside a network namespace the test made, the ingress on the machine's side of a veth
 * pair: commands go operator → API → ingress → agent → host tools and come back with their real
 * results. isolate-host must really cut a connection the test opened from inside the namespace
 * while the agent's own reports still arrive, and release-host must restore it; kill-process ends
 * a process the test started (and refuses when the hash does not match); collect-evidence uploads
 * the file's bytes, whose download is itself recorded in the custody trail.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copySleep, startChild } from '../agent/fixture.ts';
import { completed, dispatch, type EdrStack, edrStack, fastSettings, makeNetns, type Netns, type Proc, startScript, startStockade, until } from './fixture.ts';

const test = suite('the agent in a network namespace: isolation, kill-process, evidence');
let ns: Netns;
let s: EdrStack;
let agentId: string;
let root: string;
let agent: Proc;
let driver: Proc;
let echo: Server;
let echoPort: number;

/** Asks the netns driver (test/agent/netns-driver.ts) one thing and waits for its answer. */
let nextId = 1;
async function ask(cmd: Record<string, unknown>): Promise<Record<string, any>> {
  const id = nextId++;
  driver.child.stdin!.write(`${JSON.stringify({ id, ...cmd })}\n`);
  const line = await driver.waitFor(new RegExp(`^\\{"id":${id}[,}]`), { timeoutMs: 30_000 });
  return JSON.parse(line);
}

test.before(async () => {
  ns = await makeNetns('edr');
  try {
    s = await edrStack({ host: ns.hostAddress, products: ['edr', 'identity'] });
    await fastSettings(s);
    let dir: string;
    ({ dir, agentId } = await s.enrollAgent('agent-ns'));
    root = await s.hostRoot('ns');
    // Something else on the machine's side the namespace can reach: what isolation must cut.
    echo = createServer((sock) => {
      sock.on('error', () => undefined);
      sock.pipe(sock);
    });
    await new Promise<void>((r) => echo.listen(0, ns.hostAddress, r));
    echoPort = (echo.address() as { port: number }).port;
    agent = startStockade(['agent', 'run', '--dir', dir, '--host-root', root], { netns: ns.name });
    await agent.waitFor(/"agent running"/);
    driver = startStockadeDriver(ns.name);
    await driver.waitFor(/"ready":true/);
  } catch (err) {
    await ns.remove();
    throw err;
  }
});
test.after(async () => {
  await agent?.kill();
  await driver?.kill();
  echo?.close();
  await s?.close();
  await ns?.remove();
});

/** The isolation tests' driver (test/agent/netns-driver.ts) inside the namespace: it opens and uses connections there. */
function startStockadeDriver(netns: string): Proc {
  return startScript(join(import.meta.dirname, '../agent/netns-driver.ts'), [], { netns, stdin: true });
}

test('isolate-host cuts the connection the test opened from inside the namespace; the agent keeps reporting; release-host restores it', async () => {
  const conn = await ask({ op: 'connect', host: ns.hostAddress, port: echoPort, timeoutMs: 10_000 });
  assert.is(conn.ok, true, JSON.stringify(conn));
  assert.is((await ask({ op: 'send', conn: conn.conn, data: 'before', timeoutMs: 10_000 })).echo, 'before');

  const isolate = await dispatch(s, agentId, 'isolate-host');
  const r = await completed(s, isolate);
  assert.is(r.outcome, 'succeeded', r.output);
  const port = new URL(s.ingress.url).port;
  assert.match(r.output, new RegExp(`^isolated: only ${ns.hostAddress.replace(/\./g, '\\.')} port ${port} is reachable`));
  assert.match(r.output, /nft -f - exited with status 0/);
  assert.match(await ns.exec('nft', ['list', 'tables']), /table inet stockade_isolation/);
  const host = await until('the host shows isolated', async () => {
    const h = await s.api('GET', `/hosts/${agentId}`);
    return h.body.isolation === 'isolated' ? h.body : null;
  });
  assert.is(host.isolationCommandId, isolate);
  assert.equal(
    (await s.api('GET', '/hosts?isolation=isolated')).body.items.map((h: any) => h.id),
    [agentId],
  );

  // The open connection is cut, a new one is refused.
  const cut = await ask({ op: 'send', conn: conn.conn, data: 'after', timeoutMs: 10_000 });
  assert.is(cut.ok, false, JSON.stringify(cut));
  const refused = await ask({ op: 'connect', host: ns.hostAddress, port: echoPort, timeoutMs: 10_000 });
  assert.equal([refused.ok, refused.error], [false, 'ECONNREFUSED']);
  // The agent's own reports still arrive: heartbeats accepted by the ingress, and its record moves on.
  const mark = agent.lines.length;
  await agent.waitFor(/"heartbeat"/, { from: mark });
  await agent.waitFor(/"heartbeat"/, { from: agent.lines.length });
  const seen = (await s.api('GET', `/agents/${agentId}`)).body.lastSeenAt;
  assert.ok(Date.parse(seen) >= Date.parse(host.isolationChangedAt), 'heartbeats after the isolation reached the server');

  const release = await dispatch(s, agentId, 'release-host');
  const rr = await completed(s, release);
  assert.is(rr.outcome, 'succeeded', rr.output);
  assert.match(rr.output, /^released\nnft delete table inet stockade_isolation exited with status 0/);
  assert.not.match(await ns.exec('nft', ['list', 'tables']), /stockade_isolation/);
  await until('the host shows not isolated', async () => (await s.api('GET', `/hosts/${agentId}`)).body.isolation === 'not-isolated');
  const back = await ask({ op: 'connect', host: ns.hostAddress, port: echoPort, timeoutMs: 10_000 });
  assert.is(back.ok, true, JSON.stringify(back));
  assert.is((await ask({ op: 'send', conn: back.conn, data: 'free again', timeoutMs: 10_000 })).echo, 'free again');
});

test('kill-process refuses a pid whose executable hash does not match, and ends the process when it does', async () => {
  const path = join(s.dir, 'bin', 'stk-victim');
  const sha256 = await copySleep(path);
  const victim = await startChild(path, ['600']);
  try {
    await until('the victim in the processes of the host', async () => (await s.api('GET', `/processes?agentId=${agentId}&sha256=${sha256}`)).body.items?.[0]);
    const wrong = await completed(s, await dispatch(s, agentId, 'kill-process', { pid: victim.pid, sha256: 'f'.repeat(64) }));
    assert.is(wrong.outcome, 'failed');
    assert.match(wrong.output, new RegExp(`^refused: pid ${victim.pid} runs an executable with SHA-256 ${sha256}, not f{64}; the pid was probably reused`));
    assert.is(victim.child.exitCode, null, 'still running');
    assert.is(victim.child.signalCode, null);
    const kill = await completed(s, await dispatch(s, agentId, 'kill-process', { pid: victim.pid, sha256 }));
    assert.is(kill.outcome, 'succeeded', kill.output);
    assert.match(kill.output, new RegExp(`^pid ${victim.pid} ended after SIGTERM`));
    assert.equal(await victim.exited, { code: null, signal: 'SIGTERM' });
  } finally {
    await victim.stop();
  }
});

test('collect-evidence uploads the bytes; they are stored and their hash sealed; the download is checked and recorded in the custody trail', async () => {
  const bytes = await readFile(join(root, 'var/log/app.log'));
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const commandId = await dispatch(s, agentId, 'collect-evidence', { path: '/var/log/app.log' });
  const r = await completed(s, commandId);
  assert.is(r.outcome, 'succeeded', r.output);
  assert.match(r.output, new RegExp(`^/var/log/app\\.log: ${bytes.length} bytes, SHA-256 ${sha256}; uploaded as evidence [A-Za-z0-9_-]{22}`));
  const evidence = await until('the evidence', async () =>
    (await s.api('GET', `/evidence?agentId=${agentId}`)).body.items?.find((e: any) => e.commandId === commandId),
  );
  assert.equal(
    [evidence.sha256, evidence.sizeBytes, evidence.name, evidence.stored.bucket],
    [sha256, bytes.length, '/var/log/app.log', `stk-evidence-${s.tenant}`],
  );
  assert.equal(
    evidence.custody.map((c: any) => [c.action, c.to]),
    [
      ['collected', `agent:${agentId}`],
      ['transferred', `object-store:stk-evidence-${s.tenant}`],
    ],
  );
  assert.is(evidence.holder, `object-store:stk-evidence-${s.tenant}`);

  const res = await fetch(`${s.f.url}/api/v1/tenants/${s.tenant}/evidence/${evidence.id}/content`, { headers: { authorization: `Bearer ${s.operator}` } });
  assert.is(res.status, 200);
  assert.is(res.headers.get('x-stockade-sha256'), sha256);
  assert.is(res.headers.get('content-disposition'), 'attachment; filename="app.log"');
  assert.equal(Buffer.from(await res.arrayBuffer()), bytes);
  const after = await until('the download in the custody trail', async () => {
    const e = (await s.api('GET', `/evidence/${evidence.id}`)).body;
    return e.downloads === 1 ? e : null;
  });
  assert.equal(after.custody.at(-1).action, 'downloaded');
  assert.match(after.custody.at(-1).by, /^operator:token:/);
  // The download is an event of the evidence aggregate in EVENTS: the ledger seals it like any other.
  const events = (await s.f.stk.runtime.log.readAggregate({ tenant: s.tenant, aggregateType: 'evidence', aggregateId: evidence.id })).events;
  assert.equal(
    events.map((e) => e.type),
    ['evidence.collected', 'evidence.transferred', 'evidence.downloaded'],
  );
  assert.equal(events[2]!.data, { by: after.custody.at(-1).by.replace(/^operator:/, ''), sha256, sizeBytes: bytes.length });

  // Over the size the operator allows: refused on the host, nothing uploaded.
  const big = await completed(s, await dispatch(s, agentId, 'collect-evidence', { path: '/var/log/app.log', maxBytes: 5 }));
  assert.is(big.outcome, 'failed');
  assert.match(big.output, new RegExp(`^refused: /var/log/app\\.log is ${bytes.length} bytes, over the limit of 5`));
  assert.is((await s.api('GET', `/evidence?agentId=${agentId}`)).body.items.length, 1);
});

test.run();
