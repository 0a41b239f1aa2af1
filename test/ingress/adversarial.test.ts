import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { call, type IngressResponse } from '../../src/agent/client.ts';
import { InstallCa, createAgentKeyAndCsr, verifyCsr } from '../../src/pki/mod.ts';
import type { ErrorCode } from '../../src/errors.ts';
import type { AgentClient } from '../../src/agent/client.ts';
import {
  alert,
  createTenant,
  dispatch,
  enroll,
  heartbeat,
  ingressFixture,
  rawCall,
  revokeAgent,
  rotateSecret,
  setProduct,
  suspendTenant,
  tlsClient,
  type IngressFixture,
} from './fixture.ts';
import { tempDir } from '../helpers/nats.ts';
import { rejects } from '../helpers/assert.ts';
import { execute } from '../../src/domain/execute.ts';
import { mintSecret } from '../../src/tenancy/secrets.ts';
import { tenantDecider } from '../../commands/tenants/decider.ts';
import { DEFAULT_TENANT } from '../../commands/tenants/events.ts';

const ADMIN = { kind: 'operator' as const, id: 'admin' };

const test = suite<{ f: IngressFixture }>('ingress attacks');

test.before(async (ctx) => {
  ctx.f = await ingressFixture();
});
test.after(async (ctx) => {
  await ctx.f?.close();
});

/** Runs `attempt`, asserts its status and code, and that the event log did not move. */
async function refused(f: IngressFixture, attempt: () => Promise<IngressResponse>, status: number, code: ErrorCode): Promise<IngressResponse> {
  const before = await f.log.lastPosition();
  const r = await attempt();
  assert.is(r.status, status, JSON.stringify(r.body));
  assert.is(r.body?.error?.code, code, JSON.stringify(r.body));
  assert.is(await f.log.lastPosition(), before, 'a refused request writes no event');
  return r;
}

const as = (f: IngressFixture, a: AgentClient) => tlsClient(f.caPem, a.state.certPem, a.state.keyPem);

test("agent A's certificate with agent B's id", async ({ f }) => {
  const { secret } = await createTenant(f.log, ['edr']);
  const a = await enroll(f, secret);
  const b = await enroll(f, secret);
  const r = await refused(
    f,
    () => call(as(f, a), f.url, 'POST', '/agent/v1/report', { agentId: b.agentId, events: [heartbeat()] }),
    403,
    'STK_ERR_AGENT_ID_MISMATCH',
  );
  assert.is(r.body.error.message, 'client certificate does not match agent id');
  await refused(f, () => call(as(f, a), f.url, 'POST', '/agent/v1/renew', { agentId: b.agentId, csr: 'x' }), 403, 'STK_ERR_AGENT_ID_MISMATCH');
  await refused(f, () => call(as(f, a), f.url, 'GET', `/agent/v1/commands?agentId=${b.agentId}`), 403, 'STK_ERR_AGENT_ID_MISMATCH');
  a.close();
  b.close();
});

test('a command of agent B cannot be pulled or answered by agent A, even in the same tenant', async ({ f }) => {
  const { tenant, secret } = await createTenant(f.log);
  const a = await enroll(f, secret);
  const b = await enroll(f, secret);
  const commandId = await dispatch(f.log, tenant, b.agentId, 'ping');
  assert.equal(await a.commands(), []);
  await refused(
    f,
    () => call(as(f, a), f.url, 'POST', `/agent/v1/commands/${commandId}/result`, { agentId: a.agentId, outcome: 'succeeded', output: 'x' }),
    404,
    'STK_ERR_NOT_FOUND',
  );
  assert.equal(
    (await b.commands()).map((c) => c.id),
    [commandId],
  );
  a.close();
  b.close();
});

test('a certificate from another CA, no certificate, an expired certificate', async ({ f }) => {
  const { tenant, secret } = await createTenant(f.log);
  const a = await enroll(f, secret);
  const dir = await tempDir();
  try {
    // A look-alike CA: same agent id and tenant in the subject, signed by the wrong key.
    const rogue = await InstallCa.open(join(dir.path, 'pki'));
    const { keyPem, csrPem } = await createAgentKeyAndCsr();
    const forged = rogue.issueAgentCertificate({ spki: verifyCsr(csrPem).spki, agentId: a.agentId, tenant, now: new Date() });
    await refused(
      f,
      () => call(tlsClient(f.caPem, forged.pem, keyPem), f.url, 'POST', '/agent/v1/report', { agentId: a.agentId, events: [heartbeat()] }),
      401,
      'STK_ERR_AGENT_CERT_INVALID',
    );
    await refused(
      f,
      () => call(tlsClient(f.caPem), f.url, 'POST', '/agent/v1/report', { agentId: a.agentId, events: [heartbeat()] }),
      401,
      'STK_ERR_AGENT_CERT_INVALID',
    );
    await refused(f, () => call(tlsClient(f.caPem), f.url, 'GET', '/agent/v1/commands'), 401, 'STK_ERR_AGENT_CERT_INVALID');

    // The real CA, the real agent id, but out of its validity period.
    const expired = f.ingress.ca.issueAgentCertificate({
      spki: verifyCsr(csrPem).spki,
      agentId: a.agentId,
      tenant,
      now: new Date(Date.now() - 40 * 86_400_000),
      validityDays: 30,
    });
    const r = await refused(
      f,
      () => call(tlsClient(f.caPem, expired.pem, keyPem), f.url, 'POST', '/agent/v1/report', { agentId: a.agentId, events: [heartbeat()] }),
      401,
      'STK_ERR_AGENT_CERT_INVALID',
    );
    assert.match(r.body.error.message, /expired/i);

    // A certificate of this CA for an agent that was never enrolled.
    const ghost = f.ingress.ca.issueAgentCertificate({ spki: verifyCsr(csrPem).spki, agentId: 'never-enrolled', tenant, now: new Date() });
    await refused(
      f,
      () => call(tlsClient(f.caPem, ghost.pem, keyPem), f.url, 'POST', '/agent/v1/report', { agentId: 'never-enrolled', events: [heartbeat()] }),
      401,
      'STK_ERR_AGENT_CERT_INVALID',
    );
  } finally {
    a.close();
    await dir.cleanup();
  }
});

test('a revoked agent is refused at once with its unexpired certificate, on every route', async ({ f }) => {
  const { tenant, secret } = await createTenant(f.log);
  const a = await enroll(f, secret);
  assert.is((await a.report([heartbeat()])).status, 202);
  await revokeAgent(f.log, tenant, a.agentId);
  await refused(f, () => call(as(f, a), f.url, 'POST', '/agent/v1/report', { agentId: a.agentId, events: [heartbeat()] }), 403, 'STK_ERR_AGENT_REVOKED');
  await refused(f, () => call(as(f, a), f.url, 'GET', '/agent/v1/commands'), 403, 'STK_ERR_AGENT_REVOKED');
  const { csrPem } = await createAgentKeyAndCsr();
  await refused(f, () => call(as(f, a), f.url, 'POST', '/agent/v1/renew', { agentId: a.agentId, csr: csrPem }), 403, 'STK_ERR_AGENT_REVOKED');
  a.close();
});

test("an agent of a suspended tenant is refused, and the tenant's secret enrolls nothing", async ({ f }) => {
  const { tenant, secret } = await createTenant(f.log);
  const a = await enroll(f, secret);
  await suspendTenant(f.log, tenant);
  await refused(f, () => call(as(f, a), f.url, 'POST', '/agent/v1/report', { agentId: a.agentId, events: [heartbeat()] }), 403, 'STK_ERR_TENANT_SUSPENDED');
  const { csrPem } = await createAgentKeyAndCsr();
  await refused(
    f,
    () => call(tlsClient(f.caPem), f.url, 'POST', '/agent/v1/enroll', { secret, csr: csrPem, hostname: 'h', os: 'linux', agentVersion: '1' }),
    403,
    'STK_ERR_ENROLL_SECRET_INVALID',
  );
  a.close();
});

test('after a rotation the old secret enrolls nothing while enrolled agents keep reporting', async ({ f }) => {
  const { tenant, secret: old } = await createTenant(f.log);
  const a = await enroll(f, old);
  const fresh = await rotateSecret(f.log, tenant);
  const { csrPem } = await createAgentKeyAndCsr();
  await refused(
    f,
    () => call(tlsClient(f.caPem), f.url, 'POST', '/agent/v1/enroll', { secret: old, csr: csrPem, hostname: 'h', os: 'linux', agentVersion: '1' }),
    403,
    'STK_ERR_ENROLL_SECRET_INVALID',
  );
  assert.is((await a.report([heartbeat()])).status, 202);
  const b = await enroll(f, fresh);
  assert.is((await b.report([heartbeat()])).status, 202);
  a.close();
  b.close();
});

test("tenant A's secret only ever enrolls into A; every bad secret gets the very same answer", async ({ f }) => {
  const A = await createTenant(f.log);
  const B = await createTenant(f.log);
  const a = await enroll(f, A.secret);
  assert.ok((await f.log.readAggregate({ tenant: A.tenant, aggregateType: 'agent', aggregateId: a.agentId })).version > 0);
  assert.is((await f.log.readAggregate({ tenant: B.tenant, aggregateType: 'agent', aggregateId: a.agentId })).version, 0);
  a.close();

  const { csrPem } = await createAgentKeyAndCsr();
  const body = (secret?: string) => ({ ...(secret === undefined ? {} : { secret }), csr: csrPem, hostname: 'h', os: 'linux', agentVersion: '1' });
  // Right form, wrong secret; A's lookup with B's secret part; garbage; empty; missing.
  const wrongs = [
    `${A.secret.slice(0, -4)}AAAA`,
    A.secret.slice(0, A.secret.indexOf('.') + 1) + B.secret.slice(B.secret.indexOf('.') + 1),
    'hunter2',
    '',
    undefined,
  ];
  const answers = [];
  for (const s of wrongs) {
    const r = await refused(f, () => call(tlsClient(f.caPem), f.url, 'POST', '/agent/v1/enroll', body(s)), 403, 'STK_ERR_ENROLL_SECRET_INVALID');
    answers.push({ ...r.body.error, requestId: undefined });
  }
  for (const x of answers) assert.equal(x, answers[0]);
  assert.is(answers[0]!.message, 'invalid or missing enrollment secret');
});

test('a report of a product that is off is refused whole, and nothing of the batch is written', async ({ f }) => {
  const { tenant, secret } = await createTenant(f.log);
  const a = await enroll(f, secret);
  const r = await refused(
    f,
    () => call(as(f, a), f.url, 'POST', '/agent/v1/report', { agentId: a.agentId, events: [heartbeat(), alert()] }),
    403,
    'STK_ERR_PRODUCT_DISABLED',
  );
  assert.is(r.body.error.data.product, 'edr');
  const finding = {
    kind: 'finding',
    at: new Date().toISOString(),
    data: { product: 'identity', title: 'weak password', severity: 'low', subject: 'svc-backup' },
  };
  await setProduct(f.log, tenant, 'patch', true);
  await refused(f, () => call(as(f, a), f.url, 'POST', '/agent/v1/report', { agentId: a.agentId, events: [finding] }), 403, 'STK_ERR_PRODUCT_DISABLED');
  const scan = { kind: 'scan-run', at: new Date().toISOString(), data: { merkleRoot: 'a'.repeat(64), itemCount: 3, startedAt: new Date().toISOString() } };
  await refused(f, () => call(as(f, a), f.url, 'POST', '/agent/v1/report', { agentId: a.agentId, events: [scan] }), 403, 'STK_ERR_PRODUCT_DISABLED');
  // Turned on, the same kinds pass.
  await setProduct(f.log, tenant, 'edr', true);
  await setProduct(f.log, tenant, 'attack-surface', true);
  assert.is((await call(as(f, a), f.url, 'POST', '/agent/v1/report', { agentId: a.agentId, events: [heartbeat(), alert(), scan] })).status, 202);
  a.close();
});

test('a command of a product switched off after dispatch is held back until the product is on again', async ({ f }) => {
  const { tenant, secret } = await createTenant(f.log, ['edr']);
  const a = await enroll(f, secret);
  const isolate = await dispatch(f.log, tenant, a.agentId, 'isolate-host');
  const ping = await dispatch(f.log, tenant, a.agentId, 'ping');
  await setProduct(f.log, tenant, 'edr', false);
  assert.equal(
    (await a.commands()).map((c) => c.id),
    [ping],
  );
  await setProduct(f.log, tenant, 'edr', true);
  assert.equal(
    (await a.commands()).map((c) => c.id),
    [isolate, ping],
  );
  a.close();
});

test('malformed CSR, weak key, malformed JSON, oversized body, unknown fields, too many events', async ({ f }) => {
  const { secret } = await createTenant(f.log, ['edr']);
  const a = await enroll(f, secret);
  const anon = tlsClient(f.caPem);
  const enrollBody = { secret, hostname: 'h', os: 'linux', agentVersion: '1' };
  await refused(f, () => call(anon, f.url, 'POST', '/agent/v1/enroll', { ...enrollBody, csr: 'not a csr' }), 400, 'STK_ERR_PKI_CSR_INVALID');
  const { csrPem: rsa1024 } = await createAgentKeyAndCsr({ rsaBits: 1024 });
  await refused(f, () => call(anon, f.url, 'POST', '/agent/v1/enroll', { ...enrollBody, csr: rsa1024 }), 400, 'STK_ERR_PKI_KEY_REFUSED');
  await refused(f, () => rawCall(anon, f.url, 'POST', '/agent/v1/enroll', '{"secret": "x", "csr": '), 400, 'STK_ERR_VALIDATION');
  await refused(f, () => rawCall(as(f, a), f.url, 'POST', '/agent/v1/report', '{"agentId": '), 400, 'STK_ERR_VALIDATION');
  await refused(
    f,
    () => rawCall(as(f, a), f.url, 'POST', '/agent/v1/report', 'agentId=x', 'application/x-www-form-urlencoded'),
    415,
    'STK_ERR_UNSUPPORTED_MEDIA',
  );
  await refused(
    f,
    () => rawCall(anon, f.url, 'POST', '/agent/v1/enroll', JSON.stringify({ ...enrollBody, csr: 'x'.repeat(20_000) })),
    413,
    'STK_ERR_BODY_TOO_LARGE',
  );
  const huge = JSON.stringify({ agentId: a.agentId, events: [{ ...heartbeat(), data: { inventory: { blob: 'x'.repeat(1_100_000) } } }] });
  await refused(f, () => rawCall(as(f, a), f.url, 'POST', '/agent/v1/report', huge), 413, 'STK_ERR_BODY_TOO_LARGE');
  await refused(f, () => call(anon, f.url, 'POST', '/agent/v1/enroll', { ...enrollBody, csr: 'x', tenant: 'other' }), 400, 'STK_ERR_VALIDATION');
  await refused(
    f,
    () => call(as(f, a), f.url, 'POST', '/agent/v1/report', { agentId: a.agentId, tenant: 'other', events: [heartbeat()] }),
    400,
    'STK_ERR_VALIDATION',
  );
  await refused(
    f,
    () => call(as(f, a), f.url, 'POST', '/agent/v1/report', { agentId: a.agentId, events: [{ ...heartbeat(), tenant: 'x' }] }),
    400,
    'STK_ERR_VALIDATION',
  );
  await refused(
    f,
    () =>
      call(as(f, a), f.url, 'POST', '/agent/v1/report', { agentId: a.agentId, events: [{ ...alert(), data: { ...alert().data, agentId: 'someone-else' } }] }),
    400,
    'STK_ERR_VALIDATION',
  );
  await refused(
    f,
    () => call(as(f, a), f.url, 'POST', '/agent/v1/report', { agentId: a.agentId, events: [{ kind: 'alert', at: 'yesterday', data: alert().data }] }),
    400,
    'STK_ERR_VALIDATION',
  );
  await refused(
    f,
    () => call(as(f, a), f.url, 'POST', '/agent/v1/report', { agentId: a.agentId, events: [{ kind: 'rootkit', at: new Date().toISOString(), data: {} }] }),
    400,
    'STK_ERR_VALIDATION',
  );
  await refused(f, () => call(as(f, a), f.url, 'POST', '/agent/v1/report', { agentId: a.agentId, events: [] }), 400, 'STK_ERR_VALIDATION');
  await refused(
    f,
    () => call(as(f, a), f.url, 'POST', '/agent/v1/report', { agentId: a.agentId, events: Array.from({ length: 501 }, () => heartbeat()) }),
    400,
    'STK_ERR_VALIDATION',
  );
  // One bad event spoils the batch: the good ones before it are not written either.
  await refused(
    f,
    () =>
      call(as(f, a), f.url, 'POST', '/agent/v1/report', {
        agentId: a.agentId,
        events: [heartbeat(), alert(), { ...alert(), data: { rule: 'r', severity: 'apocalyptic', title: 't' } }],
      }),
    400,
    'STK_ERR_VALIDATION',
  );
  a.close();
});

test('ids with ".", "*", ">", whitespace or unicode, in every id field', async ({ f }) => {
  const { tenant, secret } = await createTenant(f.log);
  const a = await enroll(f, secret);
  const commandId = await dispatch(f.log, tenant, a.agentId);
  const bad = [`${a.agentId}.x`, 'ev.*', '>', 'a b', 'agént', 'ｅｖ', '../x', ''];
  for (const id of bad) {
    await refused(f, () => call(as(f, a), f.url, 'POST', '/agent/v1/report', { agentId: id, events: [heartbeat()] }), 400, 'STK_ERR_VALIDATION');
    await refused(
      f,
      () => call(as(f, a), f.url, 'POST', '/agent/v1/report', { agentId: a.agentId, batchId: id, events: [heartbeat()] }),
      400,
      'STK_ERR_VALIDATION',
    );
    await refused(f, () => call(as(f, a), f.url, 'POST', '/agent/v1/renew', { agentId: id, csr: 'x' }), 400, 'STK_ERR_VALIDATION');
    await refused(f, () => call(as(f, a), f.url, 'GET', `/agent/v1/commands?agentId=${encodeURIComponent(id)}`), 400, 'STK_ERR_VALIDATION');
    await refused(
      f,
      () => call(as(f, a), f.url, 'POST', `/agent/v1/commands/${commandId}/result`, { agentId: id, outcome: 'succeeded' }),
      400,
      'STK_ERR_VALIDATION',
    );
    if (id)
      await refused(
        f,
        () => call(as(f, a), f.url, 'POST', `/agent/v1/commands/${encodeURIComponent(id)}/result`, { agentId: a.agentId, outcome: 'succeeded' }),
        400,
        'STK_ERR_VALIDATION',
      );
  }
  a.close();
});

test('a certificate that expires during a keep-alive connection is refused from then on', async () => {
  let clock = new Date();
  const g = await ingressFixture({ now: () => clock });
  try {
    const { secret } = await createTenant(g.log);
    const a = await enroll(g, secret);
    assert.is((await a.report([heartbeat()])).status, 202);
    clock = new Date(clock.getTime() + 31 * 86_400_000);
    await rejects(a.report([heartbeat()]), 'STK_ERR_AGENT_CERT_INVALID');
    a.close();
  } finally {
    await g.close();
  }
});

test('an empty secret enrolls only into the default tenant, only with open enrollment on, never while suspended', async () => {
  const g = await ingressFixture();
  try {
    const { csrPem } = await createAgentKeyAndCsr();
    const body = { secret: '', csr: csrPem, hostname: 'h', os: 'linux', agentVersion: '1' };
    const enrollEmpty = () => call(tlsClient(g.caPem), g.url, 'POST', '/agent/v1/enroll', body);
    const s = mintSecret('enroll');
    await execute(
      g.log,
      { tenant: DEFAULT_TENANT, id: DEFAULT_TENANT },
      tenantDecider,
      { kind: 'create', name: 'Default', secret: { lookup: s.lookup, hash: s.hash } },
      { actor: ADMIN, known: 'new' },
    );
    await refused(g, enrollEmpty, 403, 'STK_ERR_ENROLL_SECRET_INVALID');
    await execute(
      g.log,
      { tenant: DEFAULT_TENANT, id: DEFAULT_TENANT },
      tenantDecider,
      { kind: 'set-open-enrollment', tenant: DEFAULT_TENANT, enabled: true },
      { actor: ADMIN },
    );
    const ok = await enrollEmpty();
    assert.is(ok.status, 201, JSON.stringify(ok.body));
    assert.ok((await g.log.readAggregate({ tenant: DEFAULT_TENANT, aggregateType: 'agent', aggregateId: ok.body.agentId })).version > 0);
    await suspendTenant(g.log, DEFAULT_TENANT);
    await refused(g, enrollEmpty, 403, 'STK_ERR_ENROLL_SECRET_INVALID');
  } finally {
    await g.close();
  }
});

test('enrollment is rate-limited per source address, with Retry-After', async () => {
  const g = await ingressFixture({ enrollRateLimit: { max: 2, timeWindowMs: 60_000 } });
  try {
    const { csrPem } = await createAgentKeyAndCsr();
    const send = () =>
      call(tlsClient(g.caPem), g.url, 'POST', '/agent/v1/enroll', { secret: 'nope', csr: csrPem, hostname: 'h', os: 'linux', agentVersion: '1' });
    assert.is((await send()).status, 403);
    assert.is((await send()).status, 403);
    const r = await refused(g, send, 429, 'STK_ERR_RATE_LIMITED');
    assert.ok(Number(r.headers['retry-after']) >= 1);
  } finally {
    await g.close();
  }
});

test.run();
