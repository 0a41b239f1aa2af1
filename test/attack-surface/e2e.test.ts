import { createServer, type Server } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runScanCommand } from '../../src/agent/commands/run-scan.ts';
import { HostRoot } from '../../src/agent/host-root.ts';
import { checkScanProof } from '../../src/scan/runs/proof.ts';
import { freshTenant } from '../helpers/events.ts';
import { tempDir } from '../helpers/nats.ts';
import { runCli } from '../helpers/proc.ts';
import { bannerServer, closedPort, issueLeaf, type Listener, listen, makeCa, tlsServer } from '../scan/fixture.ts';
import { enrolled, eventually, type Stack, stackFixture } from './fixture.ts';

/**
 * Attack surface end to end on loopback: listeners the test starts (a vulnerable FTP banner, TLS
 * 1.3, a TLS 1.0-only server, an expired certificate), the allowlist declared through the API, a
 * run-scan dispatched through the API and run by the agent's command handler against the real
 * ingress, then everything an operator sees: the run, its items, findings, assets, the item proof
 * checked offline by the CLI, and a second run's diff and remediation.
 */
const test = suite('attack surface end to end: dispatch, scan, seal, findings, assets, proofs, diff');

const DAY = 86_400_000;
const at = (days: number) => new Date(Date.now() + days * DAY);
const TLS10_CIPHERS = 'ECDHE-RSA-AES128-SHA:AES256-SHA:@SECLEVEL=0';

let s: Stack;
let tmp: { path: string; cleanup(): Promise<void> };
const listeners: Listener[] = [];
const extra: Server[] = [];

test.before(async () => {
  s = await stackFixture();
  tmp = await tempDir('stk-asm-');
});
test.after(async () => {
  await Promise.all(listeners.map((l) => l.close()));
  await Promise.all(extra.map((x) => new Promise((r) => x.close(r))));
  await s?.close();
  await tmp?.cleanup();
});

function listenOn(port: number): Promise<Server> {
  const server = createServer((c) => c.end('SSH-2.0-OpenSSH_9.6p1\r\n'));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

test('a run-scan from dispatch to sealed run, findings, assets, an offline proof, and the next run remediating what is gone', async () => {
  const { f } = s;
  const tenant = freshTenant('asm');
  const { enrollSecret } = await f.tenant(tenant, ['attack-surface']);
  const op = await f.token(tenant, 'operator');
  const agent = await enrolled(s, enrollSecret, 'scanner-host');
  try {
    const ca = await makeCa();
    const ftp = await listen(bannerServer('220 (vsFTPd 2.3.4)\r\n'));
    const tls13 = await listen(
      tlsServer(await issueLeaf(ca, { cn: 'www.asm.test', names: ['www.asm.test', '127.0.0.1'], notBefore: at(-1), notAfter: at(365), serial: '2001' }), {
        minVersion: 'TLSv1.3',
      }),
    );
    const tls10 = await listen(
      tlsServer(await issueLeaf(ca, { cn: 'old.asm.test', names: ['old.asm.test'], notBefore: at(-1), notAfter: at(200), serial: '2002', rsaBits: 2048 }), {
        minVersion: 'TLSv1',
        maxVersion: 'TLSv1',
        ciphers: TLS10_CIPHERS,
      }),
    );
    const expired = await listen(
      tlsServer(await issueLeaf(ca, { cn: 'expired.asm.test', names: ['expired.asm.test'], notBefore: at(-90), notAfter: at(-1), serial: '2003' }), {
        minVersion: 'TLSv1.2',
      }),
    );
    listeners.push(ftp, tls13, tls10, expired);
    const later = await closedPort();
    const ports = [ftp.port, tls13.port, tls10.port, expired.port, later].sort((a, b) => a - b);
    const base = `/api/v1/tenants/${tenant}`;

    // The allowlist is the operator's to declare; an operator token may not.
    assert.is((await f.call('PUT', `${base}/attack-surface`, { token: op, body: { targets: ['127.0.0.1'] } })).status, 403);
    const set = await f.call('PUT', `${base}/attack-surface`, { body: { targets: ['127.0.0.1', '192.0.2.0/28', 'WWW.Asm.Test.'], expiryWarningDays: 30 } });
    assert.is(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.targets, ['127.0.0.1', '192.0.2.0/28', 'www.asm.test']);

    // Dispatch is checked against the allowlist and the argument schema.
    const outside = await f.call('POST', `${base}/agents/${agent.client.agentId}/commands`, {
      token: op,
      body: { action: 'run-scan', args: { targets: ['127.0.0.2'], ports } },
    });
    assert.is(outside.status, 403, JSON.stringify(outside.body));
    assert.is(outside.body.error.code, 'STK_ERR_SCAN_TARGET_REFUSED');
    assert.is(outside.body.error.data.problems[0].reason, 'outside-allowlist');
    const badPorts = await f.call('POST', `${base}/agents/${agent.client.agentId}/commands`, {
      token: op,
      body: { action: 'run-scan', args: { targets: ['127.0.0.1'], ports: [0] } },
    });
    assert.is(badPorts.status, 400);
    assert.is(badPorts.body.error.code, 'STK_ERR_VALIDATION');

    const scan = async (): Promise<{ runId: string; commandId: string; token: string }> => {
      const d = await f.call('POST', `${base}/agents/${agent.client.agentId}/commands`, {
        token: op,
        body: {
          action: 'run-scan',
          args: { targets: ['127.0.0.1'], ports, ratePerSecond: 1000, connectTimeoutMs: 2000, cipherEnumeration: false },
        },
      });
      assert.is(d.status, 201, JSON.stringify(d.body));
      const [cmd] = await agent.client.commands();
      assert.is(cmd!.id, d.body.id);
      // The command carries what was checked, and the allowlist entries its targets are judged by (not unrelated names).
      assert.equal(cmd!.args.allowlist, ['127.0.0.1', '192.0.2.0/28']);
      const r = await runScanCommand(cmd!.args, { root: new HostRoot('/'), client: agent.poster, commandId: cmd!.id });
      assert.is(r.outcome, 'succeeded', r.output);
      const posted = await agent.client.result(cmd!.id, r.outcome, r.output);
      assert.is(posted.status, 200);
      return { runId: r.details.runId as string, commandId: cmd!.id, token: posted.body.consistencyToken };
    };

    const first = await scan();
    const run = await f.call('GET', `${base}/scans/${first.runId}?waitFor=${first.token}`, { token: op });
    assert.is(run.status, 200, JSON.stringify(run.body));
    assert.is(run.body.status, 'completed');
    assert.is(run.body.source, 'agent');
    assert.is(run.body.commandId, first.commandId);
    assert.is(run.body.itemCount, 5);
    assert.match(run.body.merkleRoot, /^[0-9a-f]{64}$/);
    assert.equal(run.body.counts, { open: 4, closed: 1, filtered: 0, tls: 3 });
    assert.is(run.body.previousRunId, null);

    const items = await f.call('GET', `${base}/scans/${first.runId}/items`, { token: op });
    assert.is(items.status, 200, JSON.stringify(items.body));
    assert.equal(
      items.body.items.map((i: { id: string; port: number; state: string }) => [i.id, i.port, i.state]),
      ports.map((p, i) => [String(i), p, p === later ? 'closed' : 'open']),
    );
    const legacy = items.body.items.find((i: { port: number }) => i.port === tls10.port);
    assert.equal(legacy.tls.versions, ['TLSv1']);
    const open = await f.call('GET', `${base}/scans/${first.runId}/items?state=closed`, { token: op });
    assert.equal(
      open.body.items.map((i: { port: number }) => i.port),
      [later],
    );

    // Findings, one per exposure key; the first run is the baseline for open ports.
    const findings = await f.call('GET', `${base}/findings?product=attack-surface&limit=200`, { token: op });
    const kinds = (findings.body.items as Array<{ details: { kind: string; port: number } }>).map((x) => `${x.details.kind}@${x.details.port}`).sort();
    assert.ok(kinds.includes(`vulnerable-banner@${ftp.port}`), kinds.join());
    assert.ok(kinds.includes(`tls-legacy-version@${tls10.port}`), kinds.join());
    assert.ok(kinds.includes(`cert-expired@${expired.port}`), kinds.join());
    assert.not.ok(
      kinds.some((k) => k.startsWith('new-open-port')),
      kinds.join(),
    );
    assert.not.ok(
      kinds.some((k) => k.endsWith(`@${tls13.port}`)),
      'the TLS 1.3 server with a valid certificate raises nothing',
    );

    // Assets: by host, by port, by certificate expiry (the expired one first).
    const hosts = await f.call('GET', `${base}/assets/hosts`, { token: op });
    assert.equal(
      hosts.body.items.map((h: { address: string; openPorts: number[] }) => [h.address, h.openPorts]),
      [['127.0.0.1', ports.filter((p) => p !== later)]],
    );
    const byPort = await f.call('GET', `${base}/assets/ports?port=${tls13.port}`, { token: op });
    assert.is(byPort.body.items.length, 1);
    assert.equal(byPort.body.items[0].tls.versions, ['TLSv1.3']);
    const certs = await f.call('GET', `${base}/assets/certificates?served=yes`, { token: op });
    assert.equal(
      certs.body.items.map((c: { subject: string; status: string }) => [c.subject.split(',')[0], c.status]),
      [
        ['CN=expired.asm.test', 'expired'],
        ['CN=old.asm.test', 'valid'],
        ['CN=www.asm.test', 'valid'],
      ],
    );
    const services = await f.call('GET', `${base}/assets/services`, { token: op });
    assert.is(services.body.items[0].agentId, agent.client.agentId);
    assert.ok(
      services.body.items[0].services.some((x: { port: number }) => x.port === ftp.port),
      'the agent host reports its listening services, the test listeners among them',
    );

    // The proof of an item checks offline, with the CLI and without; a changed item does not.
    const proof = await f.call('GET', `${base}/scans/${first.runId}/items/1/proof`, { token: op });
    assert.is(proof.status, 200, JSON.stringify(proof.body));
    assert.equal(checkScanProof(proof.body), { ok: true });
    assert.is(proof.body.run.data.merkleRoot, run.body.merkleRoot);
    const file = join(tmp.path, 'proof.json');
    await writeFile(file, JSON.stringify(proof.body));
    const good = runCli(['scan', 'verify-proof', file]);
    assert.is(await good.exited, 0, good.lines.join('\n'));
    assert.ok(good.lines.some((l) => l.startsWith('ok: item 1 of 5')));
    await writeFile(file, JSON.stringify({ ...proof.body, item: { ...proof.body.item, port: proof.body.item.port + 1 } }));
    const bad = runCli(['scan', 'verify-proof', file]);
    assert.is(await bad.exited, 1);
    assert.ok(
      bad.lines.some((l) => l.includes('STK_ERR_SCAN_PROOF_INVALID')),
      bad.lines.join('\n'),
    );
    assert.is((await f.call('GET', `${base}/scans/${first.runId}/items/5/proof`, { token: op })).status, 404);

    // The second run: the TLS 1.0 server is gone, a port that was closed now answers.
    await tls10.close();
    listeners.splice(listeners.indexOf(tls10), 1);
    extra.push(await listenOn(later));
    const second = await scan();
    const diff = await f.call('GET', `${base}/scans/${second.runId}/diff?waitFor=${second.token}`, { token: op });
    assert.is(diff.status, 200, JSON.stringify(diff.body));
    assert.is(diff.body.previousRunId, first.runId);
    assert.equal(diff.body.diff.opened, [`127.0.0.1:${later}`]);
    assert.equal(diff.body.diff.closed, [`127.0.0.1:${tls10.port}`]);
    assert.ok(diff.body.diff.findings.new.includes(`asm:127.0.0.1:${later}:new-open-port`), JSON.stringify(diff.body.diff));
    assert.ok(diff.body.diff.findings.remediated.includes(`asm:127.0.0.1:${tls10.port}:tls-legacy-version`));
    assert.ok(diff.body.diff.findings.stillOpen.some((k: string) => k.startsWith(`asm:127.0.0.1:${expired.port}:cert-expired`)));

    const after = await f.call('GET', `${base}/findings?product=attack-surface&limit=200`, { token: op });
    const byKey = new Map((after.body.items as Array<{ key: string; state: string; occurrences: number }>).map((x) => [x.key, x]));
    assert.is(byKey.get(`asm:127.0.0.1:${tls10.port}:tls-legacy-version`)?.state, 'remediated');
    assert.is(byKey.get(`asm:127.0.0.1:${later}:new-open-port`)?.state, 'open');
    const expiredKey = [...byKey.keys()].find((k) => k.startsWith(`asm:127.0.0.1:${expired.port}:cert-expired`))!;
    assert.equal([byKey.get(expiredKey)?.state, byKey.get(expiredKey)?.occurrences], ['open', 2], 'one finding per exposure, updated, not duplicated');
    assert.is(after.body.items.filter((x: { key: string }) => x.key === expiredKey).length, 1);
    const certsAfter = await eventually(
      () => f.call('GET', `${base}/assets/certificates?served=no`, { token: op }),
      (r) => r.body.items.length === 1,
      'the TLS 1.0 certificate is served no more',
    );
    assert.match(certsAfter.body.items[0].subject, /^CN=old\.asm\.test/);

    const list = await f.call('GET', `${base}/scans?commandId=${second.commandId}`, { token: op });
    assert.equal(
      list.body.items.map((x: { id: string }) => x.id),
      [second.runId],
    );
  } finally {
    agent.close();
  }
});

test.run();
