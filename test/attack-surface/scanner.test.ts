import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { scanDecider } from '../../commands/scans/decider.ts';
import { execute } from '../../src/domain/execute.ts';
import { newId } from '../../src/ids.ts';
import { createLogger } from '../../src/logger.ts';
import { Scanner } from '../../src/scan/runs/scanner.ts';
import { apiFixture, type ApiFixture } from '../helpers/api.ts';
import { freshTenant } from '../helpers/events.ts';
import { bannerServer, dnsServer, type Listener, listen } from '../scan/fixture.ts';
import { eventually } from './fixture.ts';

/**
 * The scanner role against a target outside the machine's own networks: a network namespace made
 * for the test, joined to this one by a veth pair on TEST-NET-2 addresses, with a listener inside it
 * that reports every connection it accepts. The scanner is the role's own class with the role's
 * setting (`refuseInternal`); a request outside the allowlist — refused by the API, or written to
 * the log directly, or made before the allowlist changed, or for a name resolving elsewhere — ends
 * `refused` with not one connection at the target.
 */
const test = suite('scanner role: declared external targets only, refused before anything is sent');
const run = promisify(execFile);

const HOST_SIDE = '198.51.100.1';
const TARGET = '198.51.100.2';
const PORT = 2121;

let f: ApiFixture;
let ns = '';
let target: ChildProcess | null = null;
let connections = 0;
let loopback: Listener;
let dns: Awaited<ReturnType<typeof dnsServer>>;
const scanners: Scanner[] = [];

async function startScanner(): Promise<Scanner> {
  const s = new Scanner({ log: f.stk.runtime.log, logger: createLogger({ level: 'silent' }), refuseInternal: true, dnsServers: [dns.server] });
  await s.start();
  scanners.push(s);
  return s;
}

test.before(async () => {
  f = await apiFixture();
  loopback = await listen(bannerServer('220 loopback\r\n'));
  dns = await dnsServer(new Map([['elsewhere.asm.test', ['198.51.100.9']]]));
  const id = randomBytes(3).toString('hex');
  ns = `stk-asm-${id}`;
  await run('ip', ['netns', 'add', ns]);
  await run('ip', ['link', 'add', `stkh${id}`, 'type', 'veth', 'peer', 'name', `stkn${id}`, 'netns', ns]);
  await run('ip', ['addr', 'add', `${HOST_SIDE}/30`, 'dev', `stkh${id}`]);
  await run('ip', ['link', 'set', `stkh${id}`, 'up']);
  await run('ip', ['-n', ns, 'addr', 'add', `${TARGET}/30`, 'dev', `stkn${id}`]);
  await run('ip', ['-n', ns, 'link', 'set', `stkn${id}`, 'up']);
  await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  const script = `const s=require('net').createServer(c=>{process.stdout.write('conn\\n');c.end('220 target in netns\\r\\n')});s.listen(${PORT},'${TARGET}',()=>process.stdout.write('ready\\n'))`;
  target = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    target!.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) {
        if (l === 'ready') resolve();
        if (l === 'conn') connections++;
      }
    });
    target!.once('exit', (code) => reject(new Error(`listener exited ${code}`)));
  });
});
test.after(async () => {
  for (const s of scanners) await s.close();
  target?.kill('SIGKILL');
  if (ns) await run('ip', ['netns', 'del', ns]).catch(() => {});
  await loopback?.close();
  await dns?.close();
  await f?.cleanup();
});

async function tenantWith(targets: string[]) {
  const tenant = freshTenant('scn');
  await f.tenant(tenant, ['attack-surface']);
  const r = await f.call('PUT', `/api/v1/tenants/${tenant}/attack-surface`, { body: { targets } });
  assert.is(r.status, 200, JSON.stringify(r.body));
  return tenant;
}

const scanDoc = (tenant: string, id: string) => f.call('GET', `/api/v1/tenants/${tenant}/scans/${id}`);
const settled = (tenant: string, id: string) =>
  eventually(
    () => scanDoc(tenant, id),
    (r) => r.status === 200 && r.body.status !== 'requested',
    `scan ${id} finished`,
    60_000,
  );

test('the scanner scans a declared target outside the machine and seals the run; its items and proof are there', async () => {
  await startScanner();
  const tenant = await tenantWith([`${TARGET}/32`]);
  const before = connections;
  const req = await f.call('POST', `/api/v1/tenants/${tenant}/scans`, {
    body: { targets: [TARGET], ports: [PORT, PORT + 1], ratePerSecond: 100 },
  });
  assert.is(req.status, 201, JSON.stringify(req.body));
  assert.is(req.body.status, 'requested');
  const done = await settled(tenant, req.body.id);
  assert.is(done.body.status, 'completed', JSON.stringify(done.body));
  assert.is(done.body.source, 'scanner');
  assert.is(done.body.itemCount, 2);
  assert.ok(connections > before, 'the target saw the scan');
  const items = await f.call('GET', `/api/v1/tenants/${tenant}/scans/${req.body.id}/items`);
  assert.equal(
    items.body.items.map((i: { port: number; state: string; banner?: string }) => [i.port, i.state, i.banner ?? null]),
    [
      [PORT, 'open', '220 target in netns\\r\\n'],
      [PORT + 1, 'closed', null],
    ],
  );
  const proof = await f.call('GET', `/api/v1/tenants/${tenant}/scans/${req.body.id}/items/0/proof`);
  assert.is(proof.status, 200);
  assert.is(proof.body.run.actor.id, 'scanner');
});

test('loopback and private targets are refused by the API whatever the allowlist says, and nothing is sent', async () => {
  const tenant = await tenantWith(['127.0.0.1', '10.1.0.0/24']);
  const before = loopback.accepted;
  for (const t of ['127.0.0.1', '10.1.0.7']) {
    const r = await f.call('POST', `/api/v1/tenants/${tenant}/scans`, { body: { targets: [t], ports: [loopback.port] } });
    assert.is(r.status, 403, JSON.stringify(r.body));
    assert.is(r.body.error.code, 'STK_ERR_SCAN_TARGET_REFUSED');
    assert.is(r.body.error.data.problems[0].reason, 'refused-block');
  }
  assert.is((await f.call('GET', `/api/v1/tenants/${tenant}/scans`)).body.items.length, 0, 'no request was recorded');
  assert.is(loopback.accepted, before);
});

test('a loopback request that reaches the log anyway is refused by the scanner itself: scan.refused, no connection', async () => {
  const tenant = await tenantWith(['127.0.0.1']);
  const id = newId();
  const r = await execute(
    f.stk.runtime.log,
    { tenant, id },
    scanDecider,
    { kind: 'request', request: { source: 'scanner', targets: ['127.0.0.1'], ports: [loopback.port], options: {} } },
    { actor: { kind: 'operator', id: 'test' }, known: 'new' },
  );
  const before = loopback.accepted;
  const done = await settled(tenant, id);
  assert.ok(r.position > 0);
  assert.is(done.body.status, 'refused');
  assert.is(done.body.refusal.code, 'STK_ERR_SCAN_TARGET_REFUSED');
  assert.is(done.body.refusal.problems[0].reason, 'refused-block');
  assert.is(loopback.accepted, before, 'the loopback listener was never contacted');
});

test('the allowlist changed after the request, or a name resolves outside it: refused when the scan would start, no connection to the target', async () => {
  for (const s of scanners.splice(0)) await s.close();
  const tenant = await tenantWith([`${TARGET}/32`, 'elsewhere.asm.test']);
  const before = connections;
  const stale = await f.call('POST', `/api/v1/tenants/${tenant}/scans`, { body: { targets: [TARGET], ports: [PORT] } });
  assert.is(stale.status, 201, JSON.stringify(stale.body));
  const named = await f.call('POST', `/api/v1/tenants/${tenant}/scans`, { body: { targets: ['elsewhere.asm.test'], ports: [PORT] } });
  assert.is(named.status, 201, JSON.stringify(named.body));
  const change = await f.call('PUT', `/api/v1/tenants/${tenant}/attack-surface`, { body: { targets: ['198.51.100.3', 'elsewhere.asm.test'] } });
  assert.is(change.status, 200);
  await startScanner();
  const a = await settled(tenant, stale.body.id);
  assert.is(a.body.status, 'refused');
  assert.is(a.body.refusal.problems[0].reason, 'outside-allowlist');
  const b = await settled(tenant, named.body.id);
  assert.is(b.body.status, 'refused');
  assert.equal([b.body.refusal.problems[0].reason, b.body.refusal.problems[0].address], ['resolves-outside-allowlist', '198.51.100.9']);
  assert.ok(dns.queries.includes('elsewhere.asm.test/A'), 'the name was resolved where the scan would run');
  assert.is(connections, before, 'the target saw no connection');
});

test.run();
