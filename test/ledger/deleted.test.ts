import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { jetstreamManager } from '@nats-io/jetstream';
import { LEDGER_STREAM } from '../../src/ledger/format.ts';
import { runCli } from '../helpers/proc.ts';
import { apiCall, stockadeFixture } from '../dashboard/stack.ts';
import { freshTenant, intruderConnection, within } from './fixture.ts';

/**
 * An intruder deletes the whole LEDGER stream right after sealing (as the admin of the bus can).
 * The records are seconds old, well inside verify's window: verify must still call it a break at
 * once (the sealer acknowledged them as sealed, and no block holds them), and the sealer, which
 * can no longer store anything, must say it is unhealthy.
 */
const test = suite('ledger: the LEDGER stream deleted under a running install');

const DEADLINE_MS = 120_000;

test('verify --tenant and --all call it a break at once; /healthz says the sealer cannot write', async () => {
  const stack = await stockadeFixture();
  const nc = await intruderConnection(stack.dataDir, stack.stk.natsUrl);
  try {
    const tenant = freshTenant('del');
    assert.is((await apiCall(stack.base, stack.adminKey, 'POST', '/tenants', { id: tenant, name: 'Deleted' })).status, 201);
    for (let i = 0; i < 5; i++) {
      await stack.stk.runtime.log.appendOrThrow({ tenant, aggregateType: 'alert', aggregateId: `a${i}` }, [{ type: 'alert.raised', data: { i } }], {
        expectedVersion: 'no_stream',
      });
    }
    await within(
      (async () => {
        for (;;) {
          const s = await apiCall(stack.base, stack.adminKey, 'GET', `/tenants/${tenant}/ledger`);
          if (s.body?.height >= 6 && s.body.lag.events === 0) return;
          await new Promise((r) => setTimeout(r, 50));
        }
      })(),
      DEADLINE_MS,
      'sealing',
    );
    const ok = runCli(['ledger', 'verify', '--tenant', tenant, '--data', stack.dataDir]);
    assert.is(await ok.exited, 0, ok.lines.join('\n'));

    await (await jetstreamManager(nc)).streams.delete(LEDGER_STREAM);

    const one = runCli(['ledger', 'verify', '--tenant', tenant, '--data', stack.dataDir]);
    assert.is(await within(one.exited, DEADLINE_MS, 'verify --tenant'), 1, one.lines.join('\n'));
    assert.ok(
      one.lines.some((l) => l.startsWith(`BROKEN ${tenant}: ledger_missing at height 1`)),
      one.lines.join('\n'),
    );
    assert.ok(
      one.lines.some((l) => l.includes('LEDGER: the stream does not exist')),
      one.lines.join('\n'),
    );
    const all = runCli(['ledger', 'verify', '--all', '--data', stack.dataDir]);
    assert.is(await within(all.exited, DEADLINE_MS, 'verify --all'), 1, all.lines.join('\n'));
    assert.ok(
      all.lines.some((l) => /^BROKEN: \d+ tenant\(s\), [1-9]\d* broken/.test(l)),
      all.lines.join('\n'),
    );

    // The sealer notices the stream is gone (or the next block is refused) and says so.
    const health = await within(
      (async () => {
        for (;;) {
          const res = await fetch(`${stack.base}/healthz`);
          const body = (await res.json()) as { checks: { sealer: { ok: boolean; cannotWrite?: { error: string } } } };
          if (!body.checks.sealer.ok) return { status: res.status, sealer: body.checks.sealer };
          await new Promise((r) => setTimeout(r, 100));
        }
      })(),
      DEADLINE_MS,
      'the sealer turning unhealthy',
    );
    assert.is(health.status, 503);
    assert.match(health.sealer.cannotWrite?.error ?? '', 'LEDGER');
  } finally {
    await nc.close().catch(() => {});
    await stack.close();
  }
});

test.run();
