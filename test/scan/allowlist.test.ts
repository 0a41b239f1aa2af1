import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkScanRequest, runScan, scanCheckError, type ScanCheck, type ScanPlan } from '../../src/scan/mod.ts';
import { rejects } from '../helpers/assert.ts';
import { bannerServer, dnsServer, listen, type Listener } from './fixture.ts';

const test = suite('scan allowlist');

// 127.0.0.1 is the allowlisted host in these tests; 127.0.0.2 (also loopback on Linux) is the
// "someone else" whose listener must never see a connection.
const ALLOWED = '127.0.0.1';
const OUTSIDE = '127.0.0.2';
const QUICK = { ratePerSecond: 1000, bannerWindowMs: 1000, probeTimeoutMs: 2000 };

function refused(check: ScanCheck): Array<[string, string, string?]> {
  assert.not.ok(check.ok, 'the request should be refused');
  return check.ok ? [] : check.problems.map((p) => (p.address ? [p.target, p.reason, p.address] : [p.target, p.reason]));
}

async function twoListeners(): Promise<{ inside: Listener; outside: Listener; close(): Promise<void> }> {
  const inside = await listen(bannerServer('inside\r\n'), ALLOWED);
  const outside = await listen(bannerServer('outside\r\n'), OUTSIDE);
  return { inside, outside, close: async () => void (await Promise.all([inside.close(), outside.close()])) };
}

test('a target outside the allowlist is refused before anything is sent, even beside an allowed one', async () => {
  const l = await twoListeners();
  try {
    const allowlist = [`${ALLOWED}/32`];
    const ports = [l.inside.port, l.outside.port];
    for (const targets of [[OUTSIDE], [ALLOWED, OUTSIDE], ['127.0.0.0/30'], ['::ffff:127.0.0.2']]) {
      const check = await checkScanRequest({ targets, ports }, allowlist);
      assert.is(check.ok ? '' : check.code, 'STK_ERR_SCAN_TARGET_REFUSED', targets.join(','));
      assert.ok(refused(check).every(([, reason]) => reason === 'outside-allowlist'));
    }
    assert.is(l.outside.accepted, 0, 'the outside listener saw no connection');
    assert.is(l.inside.accepted, 0, 'a refused request sends nothing to its allowed targets either');

    const err = scanCheckError((await checkScanRequest({ targets: [OUTSIDE], ports }, allowlist)) as Extract<ScanCheck, { ok: false }>);
    assert.is(err.code, 'STK_ERR_SCAN_TARGET_REFUSED');
    assert.equal(err.data.problems, [{ target: OUTSIDE, reason: 'outside-allowlist', detail: 'not inside the allowlist' }]);

    // The same request inside the allowlist does reach the allowed listener, and only it.
    const ok = await checkScanRequest({ targets: [ALLOWED], ports }, allowlist);
    assert.ok(ok.ok);
    if (ok.ok) await runScan(ok.plan, QUICK);
    assert.is(l.inside.accepted, 1);
    assert.is(l.outside.accepted, 0);
  } finally {
    await l.close();
  }
});

test('runScan refuses a plan that did not come from the check, even one shaped exactly like it', async () => {
  const l = await twoListeners();
  try {
    const ok = await checkScanRequest({ targets: [ALLOWED], ports: [l.outside.port] }, [ALLOWED]);
    assert.ok(ok.ok);
    const forged = JSON.parse(JSON.stringify(ok.ok ? ok.plan : {}, (_, v) => (typeof v === 'bigint' ? Number(v) : v)));
    forged.targets[0].ranges = [{ family: 4, first: 0x7f000002n, last: 0x7f000002n }];
    await rejects(runScan(forged as ScanPlan, QUICK), 'STK_ERR_SCAN_PLAN_UNCHECKED');
    await rejects(runScan({ ...(ok.ok ? ok.plan : {}) } as ScanPlan, QUICK), 'STK_ERR_SCAN_PLAN_UNCHECKED');
    assert.is(l.outside.accepted, 0);
  } finally {
    await l.close();
  }
});

test('DNS-rebinding defence: a name is scanned only if every address it resolves to is allowlisted, and only at those addresses', async () => {
  const l = await twoListeners();
  const records = new Map<string, string[]>([
    ['good.scan.test', [ALLOWED]],
    ['rebind.scan.test', [OUTSIDE]],
    ['mixed.scan.test', [ALLOWED, OUTSIDE]],
    ['v6.scan.test', ['::1']],
    ['zero.scan.test', ['0.0.0.1']],
  ]);
  const dns = await dnsServer(records);
  try {
    const allowlist = ['*.scan.test', 'unlisted-ok.test', ALLOWED];
    const o = { dnsServers: [dns.server], dnsTimeoutMs: 2000 };
    const ports = [l.inside.port, l.outside.port];
    const check = (targets: string[]) => checkScanRequest({ targets, ports }, allowlist, o);

    assert.equal(refused(await check(['rebind.scan.test'])), [['rebind.scan.test', 'resolves-outside-allowlist', OUTSIDE]]);
    assert.equal(refused(await check(['mixed.scan.test'])), [['mixed.scan.test', 'resolves-outside-allowlist', OUTSIDE]]);
    assert.equal(refused(await check(['v6.scan.test'])), [['v6.scan.test', 'resolves-outside-allowlist', '::1']]);
    assert.equal(refused(await check(['zero.scan.test'])), [['zero.scan.test', 'resolves-to-refused-block', '0.0.0.1']]);
    assert.equal(refused(await check(['nxdomain.scan.test'])), [['nxdomain.scan.test', 'unresolvable']]);
    const before = dns.queries.length;
    assert.equal(refused(await check(['elsewhere.example', 'good.scan.test'])), [['elsewhere.example', 'name-not-allowlisted']]);
    assert.is(dns.queries.length, before, 'a request with a refused literal target resolves nothing');
    assert.is(l.outside.accepted + l.inside.accepted, 0);

    // Accepted: the answer is pinned in the plan. The name now points elsewhere (TTL 0), but the
    // scan connects to the checked address, never resolving again.
    const good = await check(['good.scan.test']);
    assert.ok(good.ok);
    records.set('good.scan.test', [OUTSIDE]);
    const queries = dns.queries.length;
    const result = good.ok ? await runScan(good.plan, QUICK) : null;
    assert.is(dns.queries.length, queries, 'runScan made no DNS query');
    assert.equal(
      result?.items.map((i) => [i.target, i.address, i.port, i.state, i.banner]),
      [
        ['good.scan.test', ALLOWED, l.inside.port, 'open', 'inside\\r\\n'],
        ['good.scan.test', ALLOWED, l.outside.port, 'closed', undefined],
      ].sort((a, b) => (a[2] as number) - (b[2] as number)),
    );
    assert.is(l.outside.accepted, 0, 'the rebound address was never contacted');
  } finally {
    await dns.close();
    await l.close();
  }
});

test('blocks no scan may reach, internal ranges for the server role, malformed targets and oversized requests', async () => {
  const allow = ['224.0.0.0/24', '127.0.0.0/16', '10.1.0.0/16', '198.51.100.0/24'];
  assert.equal(refused(await checkScanRequest({ targets: ['224.0.0.5'], ports: [80] }, allow)), [['224.0.0.5', 'refused-block']]);
  const server = { refuseInternal: true };
  assert.equal(refused(await checkScanRequest({ targets: ['127.0.0.1', '10.1.2.3', '198.51.100.7'], ports: [80] }, allow, server)), [
    ['127.0.0.1', 'refused-block'],
    ['10.1.2.3', 'refused-block'],
  ]);
  assert.ok((await checkScanRequest({ targets: ['198.51.100.7'], ports: [80] }, allow, server)).ok);
  assert.ok((await checkScanRequest({ targets: ['127.0.0.1'], ports: [80] }, allow)).ok, 'the agent may scan its own loopback');

  const invalid = await checkScanRequest({ targets: ['10.0.0.0/8', 'bad name'], ports: [80] }, allow);
  assert.is(invalid.ok ? '' : invalid.code, 'STK_ERR_SCAN_TARGET_INVALID');
  assert.equal(refused(invalid), [
    ['10.0.0.0/8', 'cidr-too-wide'],
    ['bad name', 'invalid'],
  ]);
  for (const ports of [[], [0], [65_536], [1.5], ['80']]) {
    const r = await checkScanRequest({ targets: ['10.1.0.1'], ports: ports as number[] }, allow);
    assert.is(r.ok ? '' : r.code, 'STK_ERR_VALIDATION', JSON.stringify(ports));
  }
  const badList = await checkScanRequest({ targets: ['10.1.0.1'], ports: [80] }, ['10.0.0.0/8']);
  assert.is(badList.ok ? '' : badList.code, 'STK_ERR_SCAN_TARGET_INVALID');

  const big = await checkScanRequest({ targets: ['10.1.0.0/16'], ports: [22, 80, 443, 8443, 9000] }, allow);
  assert.is(big.ok ? '' : big.code, 'STK_ERR_SCAN_TOO_LARGE', '65,536 × 5 pairs exceed the default 262,144');
  const fits = await checkScanRequest({ targets: ['10.1.0.0/16'], ports: [22, 80, 443, 8443] }, allow);
  assert.is(fits.ok && fits.plan.probes, 262_144);
  const dup = await checkScanRequest({ targets: ['10.1.0.1', '10.1.0.1'], ports: [443, 22, 443] }, allow);
  assert.equal(dup.ok && [dup.plan.targets.length, dup.plan.ports], [1, [22, 443]]);
});

test.run();
