import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, pidAlive } from '../helpers/proc.ts';
import { natsFixture, tempDir } from '../helpers/nats.ts';
import { freePort } from '../../src/nats/server.ts';
import { connectNats } from '../../src/nats/connect.ts';

const test = suite('stockade serve');

async function healthz(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/healthz`);
  return { status: res.status, body: await res.json() };
}

test('embedded default: starts its own nats-server, is healthy, stops cleanly leaving no process behind', async () => {
  const dir = await tempDir();
  const port = await freePort();
  const p = runCli(['serve', '--data', dir.path, '--http', `127.0.0.1:${port}`]);
  try {
    const running = JSON.parse(await p.waitFor(/stockade is running/));
    assert.is(running.api, `http://127.0.0.1:${port}`);
    const h = await healthz(running.api);
    assert.is(h.status, 200);
    assert.is(h.body.status, 'ok');
    assert.ok(h.body.checks.nats.ok && h.body.checks.jetstream.ok && h.body.checks.leveldb.ok);
    // The admin key exists with mode 0600 and the log says where, never what.
    const keyStat = await stat(join(dir.path, 'admin.key'));
    assert.is(keyStat.mode & 0o777, 0o600);
    const key = (await readFile(join(dir.path, 'admin.key'), 'utf8')).trim();
    assert.ok(key.length > 40);
    assert.ok(p.lines.some((l) => l.includes('admin.key')));
    assert.not.ok(p.lines.some((l) => l.includes(key)));
    // Nor the embedded NATS users' passwords (credentials.json is 0600 for a reason): the URL it logs has none.
    const creds = JSON.parse(await readFile(join(dir.path, 'nats', 'credentials.json'), 'utf8')) as { users: Record<string, string> };
    for (const pass of Object.values(creds.users)) {
      assert.not.ok(
        p.lines.some((l) => l.includes(pass) || l.includes(encodeURIComponent(pass))),
        'a NATS password in the log',
      );
    }
    assert.match(running.nats, /^nats:\/\/app:\[redacted\]@127\.0\.0\.1:\d+$/);
    const natsPid = Number(await readFile(join(dir.path, 'nats', 'nats-server.pid'), 'utf8'));
    assert.ok(pidAlive(natsPid));
    // The store lives under the data folder.
    await stat(join(dir.path, 'nats', 'store', 'jetstream'));

    // /metrics (prom-client): process and event-loop metrics, latency histograms of the API and
    // of log appends (the default tenant's creation is one), projection and sealing lags.
    const call = await fetch(`${running.api}/api/v1/tenants/default`, { headers: { authorization: `Bearer ${key}` } });
    assert.is(call.status, 200);
    const metrics = await (await fetch(`${running.api}/metrics`)).text();
    for (const series of [
      /^stockade_process_cpu_seconds_total \d/m,
      /^stockade_nodejs_eventloop_lag_seconds \d/m,
      /^stockade_http_request_duration_seconds_bucket\{[^}]*route="\/api\/v1\/tenants\/:tenant"[^}]*status="200"[^}]*\} [1-9]/m,
      /^stockade_log_append_duration_seconds_count [1-9]/m,
      /^stockade_projector_apply_lag_seconds_count [1-9]/m,
      /^stockade_projector_lag_events \d/m,
      /^stockade_ledger_lag_seconds \d/m,
    ]) {
      assert.match(metrics, series);
    }

    // A second serve on the same data folder refuses, and says why.
    const second = runCli(['serve', '--data', dir.path, '--http', `127.0.0.1:${await freePort()}`]);
    assert.is(await second.exited, 1);
    assert.ok(
      second.lines.some((l) => l.includes('STK_ERR_DATA_LOCKED')),
      second.lines.join('\n'),
    );

    p.child.kill('SIGTERM');
    assert.is(await p.exited, 0);
    assert.not.ok(pidAlive(natsPid), 'embedded nats-server must be gone');
    assert.not.ok(await stat(join(dir.path, 'stockade.lock')).catch(() => false), 'lock released');
  } finally {
    await p.kill();
    await dir.cleanup();
  }
});

test('with NATS unreachable it says so and exits non-zero instead of hanging', async () => {
  const dir = await tempDir();
  const dead = await freePort();
  const p = runCli(['serve', '--data', dir.path, '--http', `127.0.0.1:${await freePort()}`], { NATS_URL: `nats://127.0.0.1:${dead}` });
  try {
    assert.is(await p.exited, 1);
    assert.ok(
      p.lines.some((l) => /cannot reach NATS.*STK_ERR_NATS_UNREACHABLE/.test(l)),
      p.lines.join('\n'),
    );
  } finally {
    await p.kill();
    await dir.cleanup();
  }
});

test('with NATS_URL it uses that server, starts none, and recovers when NATS restarts under it', async () => {
  const nats = await natsFixture();
  const dir = await tempDir();
  const p = runCli(['serve', '--data', dir.path, '--http', `127.0.0.1:${await freePort()}`], { NATS_URL: nats.url });
  try {
    const running = JSON.parse(await p.waitFor(/stockade is running/));
    assert.is(running.nats, nats.url);
    assert.not.ok(p.lines.some((l) => l.includes('embedded nats-server started')));
    assert.is((await healthz(running.api)).status, 200);

    await nats.server.stop();
    await p.waitFor(/NATS connection lost/);
    const down = await healthz(running.api);
    assert.is(down.status, 503);
    assert.is(down.body.checks.nats.ok, false);

    await nats.restart();
    await p.waitFor(/NATS connection restored/);
    const up = await healthz(running.api);
    assert.is(up.status, 200, JSON.stringify(up.body));
    assert.is(up.body.checks.nats.reconnects, 1);

    p.child.kill('SIGINT');
    assert.is(await p.exited, 0);
    // The external server is still there: serve stops only what it started.
    const nc = await connectNats({ servers: nats.url });
    await nc.close();
  } finally {
    await p.kill();
    await nats.stop();
    await dir.cleanup();
  }
});

test('a bad configuration is refused with a clear error', async () => {
  const p = runCli(['serve', '--role', 'api,dancer']);
  assert.is(await p.exited, 1);
  assert.ok(p.lines.some((l) => l.includes('STK_ERR_CONFIG') && l.includes('dancer')));
});

test.run();
