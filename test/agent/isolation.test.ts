import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isolationRuleset } from '../../src/agent/mod.ts';

const test = suite('agent: isolate-host and release-host in a network namespace the test made');
const run = promisify(execFile);

const tag = randomBytes(3).toString('hex');
const NS_AGENT = `stk-ag-${tag}`;
const NS_INGRESS = `stk-in-${tag}`;
const VETH_AGENT = `stka${tag}`;
const VETH_INGRESS = `stki${tag}`;
// A private /30 between the two namespaces; nothing of it exists outside them.
const INGRESS_IP = '10.77.0.1';
const AGENT_IP = '10.77.0.2';
const INGRESS_PORT = 8443;
const OTHER_PORT = 9000;
const AGENT_PORT = 7000;
/** Deadline for a connection that isolation must drop silently (inbound): long enough for a busy machine. */
const DROP_DEADLINE_MS = 3000;

/** A driver process inside one namespace (test/agent/netns-driver.ts), spoken to in JSON lines. */
class Driver {
  readonly child: ChildProcess;
  readonly #waiting = new Map<number, (msg: Record<string, unknown>) => void>();
  #next = 1;
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;

  constructor(ns: string) {
    this.child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', join(import.meta.dirname, 'netns-driver.ts')], {
      stdio: ['pipe', 'pipe', 'inherit'],
      cwd: join(import.meta.dirname, '../..'),
    });
    this.exited = new Promise((res) => this.child.once('exit', () => res()));
    let onReady: () => void;
    this.ready = new Promise((res) => {
      onReady = res;
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as Record<string, unknown> & { id: number };
      if (msg.id === 0) onReady();
      else this.#waiting.get(msg.id)?.(msg);
    });
  }

  /** Sends one command and resolves with its answer (the driver bounds every wait itself). */
  ask(cmd: Record<string, unknown>): Promise<Record<string, any>> {
    const id = this.#next++;
    return new Promise((res) => {
      this.#waiting.set(id, res);
      this.child.stdin!.write(`${JSON.stringify({ id, ...cmd })}\n`);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

const ctx = { drivers: [] as Driver[], namespaces: [] as string[] } as { drivers: Driver[]; namespaces: string[]; agent: Driver; ingress: Driver };

async function ip(...args: string[]): Promise<void> {
  await run('ip', args);
}

async function nftIn(ns: string, ...args: string[]): Promise<string> {
  return (await run('ip', ['netns', 'exec', ns, 'nft', ...args])).stdout;
}

test.before(async () => {
  await ip('netns', 'add', NS_AGENT);
  ctx.namespaces.push(NS_AGENT);
  await ip('netns', 'add', NS_INGRESS);
  ctx.namespaces.push(NS_INGRESS);
  await ip('link', 'add', VETH_AGENT, 'type', 'veth', 'peer', 'name', VETH_INGRESS);
  await ip('link', 'set', VETH_AGENT, 'netns', NS_AGENT);
  await ip('link', 'set', VETH_INGRESS, 'netns', NS_INGRESS);
  await ip('-n', NS_AGENT, 'addr', 'add', `${AGENT_IP}/30`, 'dev', VETH_AGENT);
  await ip('-n', NS_INGRESS, 'addr', 'add', `${INGRESS_IP}/30`, 'dev', VETH_INGRESS);
  for (const [ns, dev] of [
    [NS_AGENT, VETH_AGENT],
    [NS_INGRESS, VETH_INGRESS],
  ] as const) {
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
    await ip('-n', ns, 'link', 'set', dev, 'up');
  }
  // A table of someone else's in the agent's namespace: release must leave it alone.
  await run('ip', ['netns', 'exec', NS_AGENT, 'nft', 'add', 'table', 'inet', 'keepme']);
  ctx.agent = new Driver(NS_AGENT);
  ctx.ingress = new Driver(NS_INGRESS);
  ctx.drivers.push(ctx.agent, ctx.ingress);
  await Promise.all([ctx.agent.ready, ctx.ingress.ready]);
  assert.equal(await ctx.ingress.ask({ op: 'echo-server', host: INGRESS_IP, ports: [INGRESS_PORT, OTHER_PORT] }), { id: 1, ok: true });
  assert.is((await ctx.agent.ask({ op: 'echo-server', host: AGENT_IP, ports: [AGENT_PORT] })).ok, true);
});

test.after(async () => {
  for (const d of ctx.drivers) await d.stop();
  // Deleting a namespace deletes its end of the veth pair, and with it the peer.
  for (const ns of ctx.namespaces) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
  // A pair that never made it into its namespace (set-up failed half-way) is in the machine's: remove it.
  await run('ip', ['link', 'del', VETH_AGENT]).catch(() => undefined);
});

const connectTo = (d: Driver, host: string, port: number, timeoutMs = 10_000) => d.ask({ op: 'connect', host, port, timeoutMs });
const send = (d: Driver, conn: number, data: string, timeoutMs = 10_000) => d.ask({ op: 'send', conn, data, timeoutMs });

test('the ruleset allows only loopback and the ingress, and replaces itself atomically', () => {
  const rs = isolationRuleset({ addresses: ['192.0.2.10', '2001:db8::10'], port: 443 });
  assert.ok(rs.startsWith('table inet stockade_isolation\ndelete table inet stockade_isolation\ntable inet stockade_isolation {'));
  assert.match(rs, /ip daddr \{ 192\.0\.2\.10 \} tcp dport 443 accept/);
  assert.match(rs, /ip6 daddr \{ 2001:db8::10 \} tcp dport 443 accept/);
  assert.match(rs, /ip saddr \{ 192\.0\.2\.10 \} tcp sport 443 ct state established,related accept/);
  assert.is(rs.match(/policy drop;/g)?.length, 3, 'input, output and forward drop by default');
});

test('isolate cuts every connection but the ingress; release restores them; both are idempotent', async () => {
  const { agent, ingress } = ctx;
  // Before: everything works, and two connections stay open across isolation.
  const other = await connectTo(agent, INGRESS_IP, OTHER_PORT);
  const toIngress = await connectTo(agent, INGRESS_IP, INGRESS_PORT);
  assert.is(other.ok, true, JSON.stringify(other));
  assert.is(toIngress.ok, true, JSON.stringify(toIngress));
  assert.is((await send(agent, other.conn, 'before')).echo, 'before');
  assert.is((await connectTo(ingress, AGENT_IP, AGENT_PORT)).ok, true, 'inbound works before');
  assert.is((await agent.ask({ op: 'state' })).state.isolated, false);

  const isolated = (await agent.ask({ op: 'isolate', ingressHost: INGRESS_IP, ingressPort: INGRESS_PORT })).result;
  assert.is(isolated.outcome, 'succeeded', isolated.output);
  assert.match(isolated.output, /^isolated: only 10\.77\.0\.1 port 8443 is reachable/);
  assert.is(isolated.details.run.exitCode, 0);
  assert.match(await nftIn(NS_AGENT, 'list', 'table', 'inet', 'stockade_isolation'), /ip daddr 10\.77\.0\.1 tcp dport 8443 accept/);
  assert.is((await agent.ask({ op: 'state' })).state.isolated, true);

  // New connections to anything but the ingress port are refused at once (reject in output).
  const refused = await connectTo(agent, INGRESS_IP, OTHER_PORT);
  assert.equal([refused.ok, refused.error], [false, 'ECONNREFUSED']);
  // The connection that was open is cut: its next segment is answered with a reset.
  const cut = await send(agent, other.conn, 'after');
  assert.is(cut.ok, false, JSON.stringify(cut));
  assert.ok(['ECONNRESET', 'EPIPE', 'CLOSED'].includes(cut.error), cut.error);
  // The agent's own connection to the ingress keeps working, and so do new ones.
  assert.is((await send(agent, toIngress.conn, 'still reporting')).echo, 'still reporting');
  const fresh = await connectTo(agent, INGRESS_IP, INGRESS_PORT);
  assert.is(fresh.ok, true, JSON.stringify(fresh));
  assert.is((await send(agent, fresh.conn, 'report')).echo, 'report');
  // Inbound from the ingress host to another port is dropped silently: no answer before the deadline.
  const inbound = await connectTo(ingress, AGENT_IP, AGENT_PORT, DROP_DEADLINE_MS);
  assert.equal([inbound.ok, inbound.error], [false, 'TIMEOUT']);

  // Isolating again replaces the table: still exactly one, still working.
  const again = (await agent.ask({ op: 'isolate', ingressHost: INGRESS_IP, ingressPort: INGRESS_PORT })).result;
  assert.is(again.outcome, 'succeeded', again.output);
  assert.match(again.output, /^was already isolated/);
  const tables = await nftIn(NS_AGENT, 'list', 'tables');
  assert.equal(tables.trim().split('\n').sort(), ['table inet keepme', 'table inet stockade_isolation']);
  assert.is((await send(agent, toIngress.conn, 'once more')).echo, 'once more');

  const released = (await agent.ask({ op: 'release' })).result;
  assert.is(released.outcome, 'succeeded', released.output);
  assert.is(released.details.run.exitCode, 0);
  assert.equal((await nftIn(NS_AGENT, 'list', 'tables')).trim().split('\n'), ['table inet keepme'], 'exactly the isolation table is gone');
  assert.is((await agent.ask({ op: 'state' })).state.isolated, false);
  const back = await connectTo(agent, INGRESS_IP, OTHER_PORT);
  assert.is(back.ok, true, JSON.stringify(back));
  assert.is((await send(agent, back.conn, 'free')).echo, 'free');
  assert.is((await connectTo(ingress, AGENT_IP, AGENT_PORT)).ok, true, 'inbound works after release');

  const twice = (await agent.ask({ op: 'release' })).result;
  assert.equal([twice.outcome, twice.output, twice.details.wasIsolated], ['succeeded', 'not isolated: nothing to release', false]);
});

test('bad arguments are refused before nft runs', async () => {
  const r1 = (await ctx.agent.ask({ op: 'isolate', ingressHost: INGRESS_IP, ingressPort: 70000 })).result;
  assert.equal([r1.outcome, r1.output], ['failed', 'refused: ingressPort must be an integer from 1 to 65535']);
  const r2 = (await ctx.agent.ask({ op: 'isolate', ingressHost: 'no-such-host.invalid', ingressPort: 443 })).result;
  assert.is(r2.outcome, 'failed');
  assert.match(r2.output, /^refused: cannot resolve no-such-host\.invalid/);
  assert.equal((await nftIn(NS_AGENT, 'list', 'tables')).trim().split('\n'), ['table inet keepme']);
});

test.run();
