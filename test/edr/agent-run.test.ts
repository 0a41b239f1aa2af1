/**
 * `stockade agent run` against the real ingress and API on loopback, with a prepared host root:
 * what it collects follows the configuration the ingress hands out (a product switched off stops
 * its collectors within one config period and nothing of it is sent), it keeps state on disk so a
 * restart sends nothing twice, it spools while the ingress is away and sends in order once it is
 * back, it reports its health, and any item it sent can be proven offline.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadPack } from '../../src/detect/pack.ts';
import { Detector } from '../../src/detect/workers.ts';
import { createLogger } from '../../src/logger.ts';
import { openInstallBox } from '../../src/notify/install-box.ts';
import { TELEMETRY_STREAM, telemetrySubject } from '../../src/telemetry/stream.ts';
import { PASSWD } from '../agent/identity-fixture.ts';
import { copySleep, startChild } from '../agent/fixture.ts';
import { completed, dispatch, type EdrStack, edrStack, fastSettings, type Proc, startStockade, until } from './fixture.ts';

const test = suite('stockade agent run: config, collection, spool, restart, proofs');
let s: EdrStack;
let agentDir: string;
let agentId: string;
let root: string;
let agent: Proc | null = null;
let detector: Detector | null = null;

test.before(async () => {
  s = await edrStack({ host: '127.0.0.1', products: ['edr', 'identity'] });
  // The detector reads what the agent sends (TELEMETRY) beside the API, as `serve` runs it.
  detector = await Detector.start({
    log: s.f.stk.runtime.log,
    streams: s.f.stk.runtime.log.streams,
    pack: await loadPack(),
    box: await openInstallBox(s.f.stk.runtime.log.streams),
    transport: { dashboardBaseUrl: 'https://stockade.example.com', network: { allowLoopback: true }, timeoutMs: 5000 },
    logger: createLogger({ level: 'silent' }),
    workerId: 'edr-test',
  });
  await fastSettings(s);
  ({ dir: agentDir, agentId } = await s.enrollAgent('agent-a'));
  root = await s.hostRoot('a');
});
test.after(async () => {
  await agent?.kill();
  await detector?.close();
  await s?.close();
});

const startAgent = (): Proc => startStockade(['agent', 'run', '--dir', agentDir, '--host-root', root]);

/** Every item of this agent in TELEMETRY, with its sequence. */
async function telemetry(): Promise<Array<{ seq: number; item: any }>> {
  const out: Array<{ seq: number; item: any }> = [];
  for await (const m of s.f.stk.runtime.log.streams.scan(TELEMETRY_STREAM, { filter: telemetrySubject(s.tenant, agentId) }))
    out.push({ seq: m.seq, item: JSON.parse(Buffer.from(m.data).toString('utf8')) });
  return out;
}

test('the agent collects what its products ask for: processes, connections, local accounts with findings, and its health', async () => {
  agent = startAgent();
  await agent.waitFor(/"agent running"/);
  await copySleep(join(s.dir, 'bin-a', 'stk-sleeper'));
  const sleeper = await startChild(join(s.dir, 'bin-a', 'stk-sleeper'), ['300']);
  try {
    const found = await until('the sleeper in the processes of the host', async () => {
      const r = await s.api('GET', `/processes?agentId=${agentId}&pid=${sleeper.pid}`);
      return r.body.items?.[0];
    });
    assert.is(found.exe, join(s.dir, 'bin-a', 'stk-sleeper'));
    assert.is(found.name, 'stk-sleeper');
    assert.is(found.cmdline, `${join(s.dir, 'bin-a', 'stk-sleeper')} 300`);
    assert.match(found.sha256, /^[0-9a-f]{64}$/);
    const byHash = await s.api('GET', `/processes?sha256=${found.sha256}`);
    assert.ok(byHash.body.items.some((p: any) => p.pid === sleeper.pid));
    await until('connections', async () => (await s.api('GET', `/connections?agentId=${agentId}`)).body.items?.length > 0);
    // The prepared root's accounts: an extra uid-0 account is risky, alice is privileged through sudo.
    const toor = await until('toor in identities', async () => (await s.api('GET', `/identities?agentId=${agentId}&account=toor`)).body.items?.[0]);
    assert.equal([toor.uid, toor.privileged, toor.risky, toor.flags.includes('extra-uid-0')], [0, true, true, true]);
    const alice = (await s.api('GET', `/identities?account=alice&source=local`)).body.items[0];
    assert.equal(alice.privilegedGroups, ['sudo']);
    const view = await until('the finding linked to toor', async () => {
      const r = await s.api('GET', `/identities/${toor.id}`);
      return r.body.findings?.length ? r.body : null;
    });
    assert.is(view.findings[0].subject, 'local:toor:extra-uid-0');
    assert.is(view.history[0].change, 'added');
    assert.is(view.history[0].details.baseline, true);
    const groups = await s.api('GET', `/identity-groups?agentId=${agentId}&privileged=true`);
    assert.ok(groups.body.items.some((g: any) => g.group === 'sudo' && g.members.includes('alice')));
    const host = await until('the host with its started health', async () => {
      const r = await s.api('GET', `/hosts/${agentId}`);
      return r.body.health?.startedAt ? r.body : null;
    });
    assert.equal([host.isolation, host.health.agentVersion], ['not-isolated', '0.2.0']);
  } finally {
    await sleeper.stop();
  }
});

test('a change to the accounts is one account-change item; a new sudo member raises a new finding only once', async () => {
  const from = (await telemetry()).length;
  await writeFile(join(root, 'etc/passwd'), `${PASSWD}mallory:x:0:0::/root:/bin/bash\n`);
  const change = await until('mallory added', async () => (await telemetry()).slice(from).find((t) => t.item.account === 'mallory')?.item);
  assert.equal([change.change, change.uid, change.privileged, change.details.baseline], ['added', 0, true, undefined]);
  const finding = await until('the finding about mallory', async () => {
    const r = await s.api('GET', `/findings?agentId=${agentId}&product=identity`);
    const about = r.body.items.filter((f: any) => f.subject === 'local:mallory:extra-uid-0');
    // An empty list is "not yet", not an answer.
    return about.length ? about : null;
  });
  assert.is(finding.length, 1);
});

test('local account commands run usermod and chage on the host root and report their exit status; the change comes back as telemetry', async () => {
  const disable = await completed(s, await dispatch(s, agentId, 'disable-account', { account: 'frank', source: 'local' }));
  assert.is(disable.outcome, 'succeeded', disable.output);
  assert.match(disable.output, new RegExp(`^usermod --root ${root.replace(/[/.]/g, '\\$&')} -L -- frank exited with status 0`));
  const frank = (await readFile(join(root, 'etc/shadow'), 'utf8'))
    .split('\n')
    .find((l) => l.startsWith('frank:'))!
    .split(':');
  assert.is(frank[1], '!$6$a$b', 'locked');
  assert.is(frank[7], '1', 'expired');
  const reset = await completed(s, await dispatch(s, agentId, 'reset-credentials', { account: 'alice', source: 'local' }));
  assert.is(reset.outcome, 'succeeded', reset.output);
  assert.match(reset.output, /^chage --root .* --lastday 0 -- alice exited with status 0/);
  const alice = (await readFile(join(root, 'etc/shadow'), 'utf8'))
    .split('\n')
    .find((l) => l.startsWith('alice:'))!
    .split(':');
  assert.is(alice[2], '0', 'must change the password at the next login');
  const missing = await completed(s, await dispatch(s, agentId, 'lock-account', { account: 'nobody-here' }));
  assert.is(missing.outcome, 'failed');
  assert.match(missing.output, /exited with status 6:\nusermod: user 'nobody-here' does not exist/);
  // Lock and expiry, seen by the collector in one scan or two.
  await until('the lock and the expiry seen by the collector', async () => {
    const r = await s.api('GET', `/identity-changes?agentId=${agentId}&account=frank&change=modified`);
    const changed = (r.body.items ?? []).flatMap((c: any) => Object.keys(c.details.changes));
    return changed.includes('password') && changed.includes('expiresOn');
  });
});

test('switching a product off stops its collection within one config period and nothing of it is sent; on again, it resumes', async () => {
  const mark = agent!.lines.length;
  assert.is((await s.f.call('PUT', `/api/v1/tenants/${s.tenant}/products/edr`, { body: { enabled: false } })).status, 200);
  await agent!.waitFor(/"collector stopped".*"processes"/, { from: mark, timeoutMs: 10_000 });
  await agent!.waitFor(/"collector stopped".*"connections"/, { from: mark, timeoutMs: 10_000 });
  const stoppedAt = agent!.lines.length;
  const last = Math.max(0, ...(await telemetry()).map((t) => t.seq));
  const sleeper = await startChild(join(s.dir, 'bin-a', 'stk-sleeper'), ['301']);
  try {
    // Two more identity collections and a heartbeat: the agent went on working, processes would have run several times.
    await agent!.waitFor(/"collected".*"local-accounts"/, { from: stoppedAt });
    const twice = agent!.lines.length;
    await agent!.waitFor(/"collected".*"local-accounts"/, { from: twice });
    await agent!.waitFor(/"heartbeat"/, { from: twice });
    const after = (await telemetry()).filter((t) => t.seq > last);
    assert.not.ok(
      after.some((t) => t.item.kind === 'process' || t.item.kind === 'connection'),
      'no EDR item is sent while EDR is off',
    );
    assert.not.ok(agent!.lines.slice(stoppedAt).some((l) => /"collected".*"processes"/.test(l)));
    const on = agent!.lines.length;
    assert.is((await s.f.call('PUT', `/api/v1/tenants/${s.tenant}/products/edr`, { body: { enabled: true } })).status, 200);
    await agent!.waitFor(/"collector started".*"processes"/, { from: on, timeoutMs: 10_000 });
    await until('the sleeper started while EDR was off', async () => (await s.api('GET', `/processes?pid=${sleeper.pid}`)).body.items?.[0]);
  } finally {
    await sleeper.stop();
  }
});

test('a restart sends nothing twice: processes and accounts already reported are not reported again', async () => {
  const mark = agent!.lines.length;
  assert.is(await agent!.stop(), 0);
  assert.ok(agent!.lines.slice(mark).some((l) => /"agent stopped"/.test(l)));
  await until('the stopped health report', async () => (await s.api('GET', `/hosts/${agentId}`)).body.health?.stoppedAt);
  const before = await telemetry();
  agent = startAgent();
  await agent.waitFor(/"agent running"/);
  // Two scans of every collector after the restart.
  for (const c of ['processes', 'connections', 'local-accounts']) {
    await agent.waitFor(new RegExp(`"collected".*"${c}"`));
    await agent.waitFor(new RegExp(`"collected".*"${c}"`), { from: agent.lines.findIndex((l) => new RegExp(`"collected".*"${c}"`).test(l)) + 1 });
  }
  const after = await telemetry();
  const key = (i: any): string =>
    i.kind === 'process'
      ? `p|${i.pid}|${i.startedAt}`
      : i.kind === 'account-change'
        ? `a|${i.account}|${i.change}|${i.group}`
        : `c|${i.protocol}|${i.localAddress}|${i.localPort}|${i.remoteAddress}|${i.remotePort}`;
  const seen = new Set(before.map((t) => key(t.item)));
  const again = after.slice(before.length).filter((t) => t.item.kind !== 'connection' && seen.has(key(t.item)));
  assert.equal(
    again.map((t) => key(t.item)),
    [],
    'items reported before the restart are not reported again',
  );
});

test('while the ingress is away batches wait in the spool; once it is back they arrive, in the order they were made', async () => {
  await s.ingress.close();
  const mark = agent!.lines.length;
  for (const [i, name] of ['spool1', 'spool2', 'spool3'].entries()) {
    const from = agent!.lines.length;
    await writeFile(
      join(root, 'etc/passwd'),
      `${PASSWD}${['spool1', 'spool2', 'spool3']
        .slice(0, i + 1)
        .map((n, k) => `${n}:x:${2000 + k}:100::/home/${n}:/bin/sh`)
        .join('\n')}\n`,
    );
    await agent!.waitFor(/"collected".*"local-accounts".*"items":[1-9]/, { from });
    void name;
  }
  await agent!.waitFor(/ingress unavailable; batch kept in the spool/, { from: mark });
  await s.restartIngress();
  const arrived = await until('the spooled accounts', async () => {
    const items = (await telemetry()).filter((t) => ['spool1', 'spool2', 'spool3'].includes(t.item.account));
    return items.length === 3 ? items : null;
  });
  assert.equal(
    arrived.map((t) => t.item.account),
    ['spool1', 'spool2', 'spool3'],
    'in the order they were collected',
  );
});

test("any item the agent sent can be proven offline against its batch's sealed root; a changed item cannot", async () => {
  const one = (await s.api('GET', `/processes?agentId=${agentId}&limit=1`)).body.items[0];
  assert.match(one.itemId, /^[A-Za-z0-9_-]+:\d+$/);
  assert.is(one.seq, undefined, 'a document answers without its TELEMETRY sequence');
  const proof = await s.api('GET', `/telemetry/items/${encodeURIComponent(one.itemId)}/proof`);
  assert.is(proof.status, 200, JSON.stringify(proof.body));
  assert.is(proof.body.itemId, one.itemId);
  assert.equal([proof.body.item.pid, proof.body.item.startedAt], [one.pid, one.startedAt]);
  const file = join(s.dir, 'proof.json');
  await writeFile(file, JSON.stringify(proof.body));
  const ok = startStockade(['telemetry', 'verify-proof', file]);
  assert.is(await ok.exited, 0, ok.lines.join('\n'));
  assert.is(JSON.parse(ok.lines[0]!).ok, true);
  await writeFile(file, JSON.stringify({ ...proof.body, item: { ...proof.body.item, cmdline: 'rm -rf /' } }));
  const bad = startStockade(['telemetry', 'verify-proof', file]);
  assert.is(await bad.exited, 2);
  assert.equal(JSON.parse(bad.lines[0]!), { ok: false, reason: 'the item does not hash to the leaf hash' });
});

test("the chain: a program the test ran from /tmp, reported by the agent, raises the detector's alert, whose telemetry can be proven", async () => {
  const alert = await until('the exec-from-tmp alert on this host', async () => {
    const r = await s.api('GET', `/alerts?agentId=${agentId}`);
    return r.body.items?.find((a: any) => a.title === 'Program Executed from a Temporary Folder');
  });
  const ref = (alert.details?.refs ?? alert.refs ?? []).find((x: any) => x.stream === 'TELEMETRY');
  assert.ok(ref, JSON.stringify(alert));
  // Named by its batch and index, never by its install-wide TELEMETRY sequence.
  assert.equal(Object.keys(ref).sort(), ['item', 'stream']);
  const one = await s.api('GET', `/alerts/${alert.id}`);
  assert.ok(
    one.body.refs.every((x: any) => !('seq' in x)),
    JSON.stringify(one.body.refs),
  );
  const proof = await s.api('GET', `/telemetry/items/${encodeURIComponent(ref.item)}/proof`);
  assert.is(proof.status, 200, JSON.stringify(proof.body));
  assert.match(proof.body.item.exe, /^\/tmp\//);
  const file = join(s.dir, 'alert-proof.json');
  await writeFile(file, JSON.stringify(proof.body));
  const ok = startStockade(['telemetry', 'verify-proof', file]);
  assert.is(await ok.exited, 0, ok.lines.join('\n'));
});

test.run();
