import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { agentCommandDecider } from './decider.ts';
import { CommandEvents as E } from './events.ts';
import { ev, spec } from '../../test/helpers/spec.ts';

const test = suite('agent commands decider');
const dispatched = ev(E.dispatched, { agentId: 'ag1', action: 'ping', args: {} });

test('only the addressed agent can take or answer a command; another agent finds nothing', () => {
  spec(agentCommandDecider).given([dispatched]).when({ kind: 'deliver', agentId: 'ag1' }).then([E.delivered]);
  spec(agentCommandDecider).given([dispatched]).when({ kind: 'deliver', agentId: 'ag2' }).refused('STK_ERR_NOT_FOUND');
  spec(agentCommandDecider).given([dispatched]).when({ kind: 'complete', agentId: 'ag2', outcome: 'succeeded', output: '' }).refused('STK_ERR_NOT_FOUND');
  spec(agentCommandDecider)
    .given([dispatched, ev(E.delivered)])
    .when({ kind: 'complete', agentId: 'ag1', outcome: 'failed', output: 'no' })
    .then([E.completed]);
  spec(agentCommandDecider)
    .given([dispatched, ev(E.completed, { outcome: 'failed', output: '' })])
    .when({ kind: 'complete', agentId: 'ag1', outcome: 'failed', output: '' })
    .refused('STK_ERR_INVALID_TRANSITION');
});

test('a dispatch is refused when its product is off, the tenant suspended or the agent revoked', () => {
  const command = { agentId: 'ag1', action: 'isolate-host', args: {} };
  const ok = { products: ['edr'] as const, suspended: false, agentStatus: 'active' as const };
  spec(agentCommandDecider).given([]).when({ kind: 'dispatch', command, context: ok }).then([E.dispatched]);
  spec(agentCommandDecider)
    .given([])
    .when({ kind: 'dispatch', command, context: { ...ok, products: [] } })
    .refused('STK_ERR_PRODUCT_DISABLED');
  spec(agentCommandDecider)
    .given([])
    .when({ kind: 'dispatch', command, context: { ...ok, suspended: true } })
    .refused('STK_ERR_TENANT_SUSPENDED');
  spec(agentCommandDecider)
    .given([])
    .when({ kind: 'dispatch', command, context: { ...ok, agentStatus: 'revoked' } })
    .refused('STK_ERR_AGENT_REVOKED');
  spec(agentCommandDecider)
    .given([])
    .when({ kind: 'dispatch', command: { ...command, action: 'ping' }, context: { ...ok, products: [] } })
    .then([E.dispatched]);
});

test('cancel while the agent has not pulled it; after that, a pull takes nothing and a result is refused', () => {
  spec(agentCommandDecider)
    .given([dispatched])
    .when({ kind: 'cancel', reason: 'wrong host' })
    .then([E.cancelled], [{ reason: 'wrong host' }]);
  spec(agentCommandDecider)
    .given([dispatched, ev(E.delivered)])
    .when({ kind: 'cancel', reason: '' })
    .refused('STK_ERR_INVALID_TRANSITION');
  spec(agentCommandDecider)
    .given([dispatched, ev(E.completed, { outcome: 'succeeded', output: '' })])
    .when({ kind: 'cancel', reason: '' })
    .refused('STK_ERR_INVALID_TRANSITION');
  spec(agentCommandDecider).given([]).when({ kind: 'cancel', reason: '' }).refused('STK_ERR_NOT_FOUND');
  const cancelled = ev(E.cancelled, { reason: '' });
  spec(agentCommandDecider).given([dispatched, cancelled]).when({ kind: 'cancel', reason: '' }).refused('STK_ERR_INVALID_TRANSITION');
  spec(agentCommandDecider).given([dispatched, cancelled]).when({ kind: 'deliver', agentId: 'ag1' }).then([]);
  spec(agentCommandDecider)
    .given([dispatched, cancelled])
    .when({ kind: 'complete', agentId: 'ag1', outcome: 'succeeded', output: '' })
    .refused('STK_ERR_INVALID_TRANSITION');
  spec(agentCommandDecider).given([dispatched, cancelled]).when({ kind: 'deliver', agentId: 'ag2' }).refused('STK_ERR_NOT_FOUND');
});

const policy = { defaultSeconds: 300, maxSeconds: 1800 };
const expiring = (expiresAt: string) => ev(E.dispatched, { agentId: 'ag1', action: 'kill-process', args: {}, expiresAt });
const any = { products: ['edr'] as const, suspended: false, agentStatus: 'active' as const };

test('a dispatch records its expiry from the clock it is given: the default, an asked one, never above the maximum', () => {
  const command = { agentId: 'ag1', action: 'kill-process', args: { pid: 1 } };
  const now = '2026-03-01T12:00:00.000Z';
  spec(agentCommandDecider)
    .given([])
    .when({ kind: 'dispatch', command, context: any, expiry: { now, policy } })
    .then([E.dispatched], [{ ...command, expiresAt: '2026-03-01T12:05:00.000Z' }]);
  spec(agentCommandDecider)
    .given([])
    .when({ kind: 'dispatch', command, context: any, expiry: { now, policy, ttlSeconds: 1800 } })
    .then([E.dispatched], [{ ...command, expiresAt: '2026-03-01T12:30:00.000Z' }]);
  spec(agentCommandDecider)
    .given([])
    .when({ kind: 'dispatch', command, context: any, expiry: { now, policy, ttlSeconds: 1801 } })
    .refused('STK_ERR_AGENT_COMMAND_TTL');
});

test('expiry: not delivered once passed; expired by the sweep only when passed; a result after it is late', () => {
  const d = expiring('2026-03-01T12:05:00.000Z');
  spec(agentCommandDecider).given([d]).when({ kind: 'deliver', agentId: 'ag1', now: '2026-03-01T12:04:59.999Z' }).then([E.delivered]);
  spec(agentCommandDecider).given([d]).when({ kind: 'deliver', agentId: 'ag1', now: '2026-03-01T12:05:00.000Z' }).refused('STK_ERR_AGENT_COMMAND_EXPIRED');
  spec(agentCommandDecider).given([d]).when({ kind: 'expire', now: '2026-03-01T12:04:00.000Z' }).then([]);
  spec(agentCommandDecider)
    .given([d, ev(E.delivered)])
    .when({ kind: 'expire', now: '2026-03-01T12:06:00.000Z' })
    .then([E.expired]);
  spec(agentCommandDecider)
    .given([d, ev(E.expired, { expiresAt: '2026-03-01T12:05:00.000Z' })])
    .when({ kind: 'expire', now: '2026-03-01T13:00:00.000Z' })
    .then([]);
  spec(agentCommandDecider)
    .given([d, ev(E.delivered)])
    .when({ kind: 'complete', agentId: 'ag1', outcome: 'succeeded', output: 'ok', now: '2026-03-01T12:10:00.000Z' })
    .then([E.completed], [{ outcome: 'succeeded', output: 'ok', late: true }]);
  spec(agentCommandDecider)
    .given([d, ev(E.delivered)])
    .when({ kind: 'complete', agentId: 'ag1', outcome: 'succeeded', output: 'ok', now: '2026-03-01T12:01:00.000Z' })
    .then([E.completed], [{ outcome: 'succeeded', output: 'ok' }]);
  // A command from before expiries never expires.
  spec(agentCommandDecider).given([dispatched]).when({ kind: 'expire', now: '2099-01-01T00:00:00.000Z' }).then([]);
});

test('run-scan and install-patches are checked at dispatch: the args schema, the allowlist, the window; the command carries what was checked', () => {
  const ctx = { products: ['attack-surface', 'patch'] as const, suspended: false, agentStatus: 'active' as const };
  const allowlist = ['198.51.100.0/28', 'www.example.com', '*.corp.example', '10.0.0.0/24'];
  const scan = (args: Record<string, unknown>) => ({ agentId: 'ag1', action: 'run-scan', args });
  const run = (args: Record<string, unknown>, facts = { allowlist }) =>
    agentCommandDecider.decide({ kind: 'dispatch', command: scan(args), context: { ...ctx, ...facts } }, agentCommandDecider.initialState());
  const ok = run({ targets: ['198.51.100.7', 'WWW.example.com.'], ports: [443, '20-22', 22] });
  if (!ok.ok) throw ok.error;
  assert.equal(ok.events[0]!.data, {
    agentId: 'ag1',
    action: 'run-scan',
    args: {
      targets: ['198.51.100.7', 'www.example.com'],
      ports: ['20-22', 443],
      // Every address entry, and the names matching its hostnames: not the unrelated wildcard.
      allowlist: ['198.51.100.0/28', 'www.example.com', '10.0.0.0/24'],
    },
  });
  spec(agentCommandDecider)
    .given([])
    .when({ kind: 'dispatch', command: scan({ targets: ['198.51.100.99'], ports: [22] }), context: { ...ctx, allowlist } })
    .refused('STK_ERR_SCAN_TARGET_REFUSED');
  spec(agentCommandDecider)
    .given([])
    .when({ kind: 'dispatch', command: scan({ targets: ['evil.example'], ports: [22] }), context: { ...ctx, allowlist } })
    .refused('STK_ERR_SCAN_TARGET_REFUSED');
  spec(agentCommandDecider)
    .given([])
    .when({ kind: 'dispatch', command: scan({ targets: ['198.51.100.7'], ports: [22] }), context: ctx })
    .refused('STK_ERR_SCAN_TARGET_REFUSED');
  spec(agentCommandDecider)
    .given([])
    .when({ kind: 'dispatch', command: scan({ targets: ['10.0.0.0/8'], ports: [22] }), context: { ...ctx, allowlist } })
    .refused('STK_ERR_SCAN_TARGET_INVALID');
  for (const bad of [
    { targets: ['198.51.100.7'], ports: [0] },
    { targets: ['198.51.100.7'], ports: ['9-1'] },
    { targets: [], ports: [1] },
    { targets: ['198.51.100.7'], ports: [1], extra: 1 },
    { targets: ['198.51.100.7'], ports: [1], concurrency: 10_000 },
  ])
    spec(agentCommandDecider)
      .given([])
      .when({ kind: 'dispatch', command: scan(bad), context: { ...ctx, allowlist } })
      .refused('STK_ERR_VALIDATION');

  const patch = (args: Record<string, unknown>, window: unknown = null) =>
    agentCommandDecider.decide(
      { kind: 'dispatch', command: { agentId: 'ag1', action: 'install-patches', args }, context: { ...ctx, maintenanceWindow: window as never } },
      agentCommandDecider.initialState(),
    );
  const window = { days: ['sat'], start: '02:00', end: '05:00', timeZone: 'Europe/Berlin' };
  const p = patch({ mode: 'packages', packages: ['openssl', 'openssl'], dryRun: false }, window);
  if (!p.ok) throw p.error;
  assert.equal(p.events[0]!.data, { agentId: 'ag1', action: 'install-patches', args: { mode: 'packages', packages: ['openssl'], dryRun: false, window } });
  const none = patch({ mode: 'security', dryRun: true });
  assert.ok(none.ok && (none.events[0]!.data as { args: { window: unknown } }).args.window === null);
  const bad = patch({ mode: 'packages', packages: ['foo;rm -rf /'], dryRun: false });
  assert.ok(!bad.ok && bad.error.code === 'STK_ERR_PATCH_PACKAGE_INVALID');
  for (const args of [
    { mode: 'security' },
    { mode: 'everything', dryRun: true },
    { mode: 'security', packages: ['a1'], dryRun: true },
    { mode: 'security', dryRun: true, window },
  ]) {
    const r = patch(args);
    assert.ok(!r.ok && r.error.code === 'STK_ERR_VALIDATION', JSON.stringify(args));
  }
});

test.run();
