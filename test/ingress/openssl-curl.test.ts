import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTenant, dispatch, ingressFixture, type IngressFixture } from './fixture.ts';
import { tempDir } from '../helpers/nats.ts';
import { AlertEvents } from '../../commands/alerts/events.ts';

const test = suite<{ f: IngressFixture }>('a client nobody here wrote: openssl + curl');

test.before(async (ctx) => {
  ctx.f = await ingressFixture();
});
test.after(async (ctx) => {
  await ctx.f?.close();
});

const run = promisify(execFile);

/**
 * curl, run asynchronously (the ingress answers from this very process); returns the HTTP status
 * and the parsed body.
 */
async function curl(args: string[]): Promise<{ status: number; body: any }> {
  const out = (await run('curl', ['-sS', '--max-time', '20', '-w', '\n%{http_code}', ...args])).stdout;
  const nl = out.lastIndexOf('\n');
  const text = out.slice(0, nl);
  return { status: Number(out.slice(nl + 1)), body: text ? JSON.parse(text) : null };
}

test('enroll with openssl req + curl, report with curl --cert --key --cacert, pull and answer a command', async ({ f }) => {
  const { tenant, secret } = await createTenant(f.log, ['edr']);
  const dir = await tempDir();
  try {
    const p = (name: string) => join(dir.path, name);
    // The operator hands the agent the install's CA certificate (<data>/pki/ca.crt) with the secret.
    await writeFile(p('ca.crt'), f.caPem);
    execFileSync(
      'openssl',
      [
        'req',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        p('agent.key'),
        '-subj',
        '/CN=whatever',
        '-out',
        p('agent.csr'),
      ],
      { stdio: 'ignore' },
    );
    await writeFile(
      p('enroll.json'),
      JSON.stringify({ secret, csr: await readFile(p('agent.csr'), 'utf8'), hostname: 'db-01', os: 'debian 12', agentVersion: 'curl-1' }),
    );
    const json = ['-H', 'content-type: application/json'];

    const enrolled = await curl([...json, '--cacert', p('ca.crt'), '--data-binary', `@${p('enroll.json')}`, `${f.url}/agent/v1/enroll`]);
    assert.is(enrolled.status, 201, JSON.stringify(enrolled.body));
    const agentId: string = enrolled.body.agentId;
    await writeFile(p('agent.crt'), enrolled.body.certificate);
    const subject = execFileSync('openssl', ['x509', '-in', p('agent.crt'), '-noout', '-subject']).toString();
    assert.match(subject, new RegExp(`CN\\s*=\\s*${agentId}`));
    const mtls = ['--cert', p('agent.crt'), '--key', p('agent.key'), '--cacert', p('ca.crt')];

    await writeFile(
      p('report.json'),
      JSON.stringify({
        agentId,
        batchId: 'curl-batch-1',
        events: [
          { kind: 'heartbeat', at: new Date().toISOString(), data: { inventory: { kernel: '6.1' } } },
          { kind: 'alert', at: new Date().toISOString(), data: { rule: 'edr.curl', severity: 'medium', title: 'reported by curl' } },
        ],
      }),
    );
    const reported = await curl([...json, ...mtls, '--data-binary', `@${p('report.json')}`, `${f.url}/agent/v1/report`]);
    assert.is(reported.status, 202, JSON.stringify(reported.body));
    const alerts = (await f.log.readTenant(tenant)).flatMap((r) => r.events).filter((e) => e.type === AlertEvents.raised);
    assert.is(alerts.length, 1);

    // Without the client certificate the same request is refused.
    const anonymous = await curl([...json, '--cacert', p('ca.crt'), '--data-binary', `@${p('report.json')}`, `${f.url}/agent/v1/report`]);
    assert.is(anonymous.status, 401);
    assert.is(anonymous.body.error.code, 'STK_ERR_AGENT_CERT_INVALID');

    const commandId = await dispatch(f.log, tenant, agentId, 'ping');
    const pulled = await curl([...mtls, `${f.url}/agent/v1/commands`]);
    assert.is(pulled.status, 200);
    assert.equal(
      pulled.body.commands.map((c: { id: string; action: string }) => [c.id, c.action]),
      [[commandId, 'ping']],
    );
    await writeFile(p('result.json'), JSON.stringify({ agentId, outcome: 'succeeded', output: 'pong' }));
    const answered = await curl([...json, ...mtls, '--data-binary', `@${p('result.json')}`, `${f.url}/agent/v1/commands/${commandId}/result`]);
    assert.is(answered.status, 200, JSON.stringify(answered.body));
    assert.equal((await curl([...mtls, `${f.url}/agent/v1/commands`])).body.commands, []);

    // Renewal with a new key made by openssl, over the current mTLS identity.
    execFileSync(
      'openssl',
      ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p('agent2.key'), '-subj', '/CN=x', '-out', p('agent2.csr')],
      { stdio: 'ignore' },
    );
    await writeFile(p('renew.json'), JSON.stringify({ agentId, csr: await readFile(p('agent2.csr'), 'utf8') }));
    const renewed = await curl([...json, ...mtls, '--data-binary', `@${p('renew.json')}`, `${f.url}/agent/v1/renew`]);
    assert.is(renewed.status, 200, JSON.stringify(renewed.body));
    await writeFile(p('agent2.crt'), renewed.body.certificate);
    const again = await curl([
      ...json,
      '--cert',
      p('agent2.crt'),
      '--key',
      p('agent2.key'),
      '--cacert',
      p('ca.crt'),
      '--data-binary',
      `@${p('report.json')}`,
      `${f.url}/agent/v1/report`,
    ]);
    assert.is(again.status, 202);
  } finally {
    await dir.cleanup();
  }
});

/** The shell block of docs/agent-protocol.md that follows `<!-- tested: name -->`. */
async function docBlock(name: string): Promise<string> {
  const doc = await readFile(join(import.meta.dirname, '../../docs/agent-protocol.md'), 'utf8');
  const m = new RegExp(`<!-- tested: ${name} -->\\s*\`\`\`sh\\n([\\s\\S]*?)\`\`\``).exec(doc);
  assert.ok(m, `docs/agent-protocol.md has no tested block ${name}`);
  return m![1]!;
}

test("docs/agent-protocol.md's shell session, run as written", async ({ f }) => {
  const { tenant, secret } = await createTenant(f.log, ['edr']);
  const dir = await tempDir();
  try {
    await writeFile(join(dir.path, 'ca.crt'), f.caPem);
    const env = { ...process.env, INGRESS: f.url, SECRET: secret };
    const first = await run('bash', ['-euo', 'pipefail', '-c', await docBlock('enroll-and-report')], { cwd: dir.path, env });
    assert.equal(JSON.parse(first.stdout).accepted, 2);
    const agentId = JSON.parse(await readFile(join(dir.path, 'enrolled.json'), 'utf8')).agentId as string;
    const commandId = await dispatch(f.log, tenant, agentId, 'ping');
    const second = await run('bash', ['-euo', 'pipefail', '-c', await docBlock('commands')], { cwd: dir.path, env: { ...env, COMMAND_ID: commandId } });
    assert.is(JSON.parse(second.stdout).status, 'completed');
    const listed = JSON.parse(await readFile(join(dir.path, 'commands.json'), 'utf8'));
    assert.equal(
      listed.commands.map((c: { id: string }) => c.id),
      [commandId],
    );
  } finally {
    await dir.cleanup();
  }
});

test.run();
