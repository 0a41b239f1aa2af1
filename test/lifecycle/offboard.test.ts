import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createPublicKey, verify } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { agentDecider } from '../../commands/agents/decider.ts';
import { AgentClient } from '../../src/agent/client.ts';
import { execute } from '../../src/domain/execute.ts';
import { DATA_KEYS_BUCKET } from '../../src/privacy/mod.ts';
import { evidencePart, exportTenant, verifyExport } from '../../src/lifecycle/export.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { EVENTS_STREAM, tenantFilter } from '../../src/log/mod.ts';
import { newId } from '../../src/ids.ts';
import { PACKAGES_STREAM, packagesStreamSpec, packagesTenantFilter, storePackageList } from '../../src/patch/packages.ts';
import { runSubject, SCANS_STREAM, scansStreamSpec, scansTenantFilter } from '../../src/scan/runs/stream.ts';
import { freshTenant, readToken } from '../helpers/events.ts';
import { tempDir } from '../helpers/nats.ts';
import { rejects } from '../helpers/assert.ts';
import { ingressOn, lifecycleFixture, type LifecycleFixture } from './fixture.ts';

/**
 * Offboarding a customer: the export, then the deletion, with another customer on the same install
 * whose every byte (events, read models, keys) is compared before and after.
 */
const test = suite('lifecycle: offboarding a customer');
let f: LifecycleFixture;
let ing: Awaited<ReturnType<typeof ingressOn>>;
test.before(async () => {
  f = await lifecycleFixture();
  ing = await ingressOn(f);
});
test.after(async () => {
  await ing?.close();
  await f?.cleanup();
});

interface Customer {
  tenant: string;
  secret: string;
  operator: string;
  agent: AgentClient;
}

async function customer(label: string): Promise<Customer> {
  const tenant = freshTenant(label);
  const { enrollSecret } = await f.tenant(tenant, ['edr']);
  const operator = await f.token(tenant, 'operator');
  await f.token(tenant, 'auditor');
  const agent = await AgentClient.enroll({
    url: ing.ingress.url,
    caPem: ing.ingress.ca.certificatePem,
    secret: enrollSecret,
    hostname: `${label}-host`,
    os: 'linux',
    agentVersion: '1',
  });
  await agent.report([{ kind: 'alert', at: new Date().toISOString(), data: { rule: 'edr.x', severity: 'high', title: `${label}: bash from nginx` } }]);
  const cmd = await f.call('POST', `/api/v1/tenants/${tenant}/agents/${agent.agentId}/commands`, { body: { action: 'ping' } });
  assert.is(cmd.status, 201);
  // Evidence bytes in the tenant's object store bucket.
  await f.stk.runtime.readModels!.telemetry.evidence.put(tenant, `ev-${label}`, new TextEncoder().encode(`${label} memory dump`));
  // A scan item in SCANS and a host's package list in PACKAGES, as the ingress stores them.
  const streams = f.stk.runtime.streams;
  await streams.ensureStream(scansStreamSpec());
  await streams.ensureStream(packagesStreamSpec());
  await streams.publish(runSubject(tenant, `run-${label}`), new TextEncoder().encode(`{"port":22,"host":"${label}"}`), { msgId: newId() });
  await storePackageList(streams, tenant, agent.agentId, { bytes: new TextEncoder().encode(`${label} openssl 3.0.11`), sha256: newId() });
  return { tenant, secret: enrollSecret, operator, agent };
}

/** Every byte of a tenant: its stored records, its read models as the export route gives them, its data keys. */
async function snapshot(tenant: string) {
  const streams = f.stk.runtime.streams;
  const records: string[] = [];
  await streams.scanEach(EVENTS_STREAM, { filter: tenantFilter(tenant) }, (m) => {
    records.push(`${m.seq} ${m.subject} ${Buffer.from(m.data).toString('base64')}`);
  });
  const docs = await fetch(`${f.url}/api/v1/tenants/${tenant}/export/read-models`, { headers: { authorization: `Bearer ${f.adminKey}` } }).then((r) =>
    r.text(),
  );
  const kv = await streams.bucket(DATA_KEYS_BUCKET);
  const keys: string[] = [];
  for await (const k of await kv.keys(`*.${tenant}.>`)) keys.push(`${k}=${(await kv.get(k))?.string()}`);
  const evidence = (await f.stk.runtime.readModels!.telemetry.evidence.list(tenant)).map((o) => `${o.name} ${o.sha256}`);
  return { records, docs, keys: keys.sort(), evidence, stored: await storedOutside(tenant) };
}

/** A tenant's scan items and package lists, the streams beside EVENTS that hold its data. */
async function storedOutside(tenant: string): Promise<string[]> {
  const stored: string[] = [];
  for (const [stream, filter] of [
    [SCANS_STREAM, scansTenantFilter(tenant)],
    [PACKAGES_STREAM, packagesTenantFilter(tenant)],
  ] as const) {
    await f.stk.runtime.streams.scanEach(stream, { filter }, (m) => {
      stored.push(`${stream} ${m.seq} ${Buffer.from(m.data).toString('base64')}`);
    });
  }
  return stored;
}

test('export, then delete: the customer is gone, can verify what it took, the id is reserved; the other customer is byte-identical', async () => {
  const log = f.stk.runtime.log;
  const leaving = await customer('leave');
  const staying = await customer('stay');
  await f.stk.runtime.readModels!.projector.waitFor(await log.lastPosition(), 10_000);
  const before = await snapshot(staying.tenant);
  assert.ok(before.records.length > 5 && before.keys.length > 0 && before.docs.length > 0 && before.evidence.length === 1 && before.stored.length === 2);

  // The export, checked as the customer would.
  const out = await tempDir('stk-export-');
  try {
    await f.sealed(leaving.tenant);
    const res = await fetch(`${f.url}/api/v1/tenants/${leaving.tenant}/export/read-models`, { headers: { authorization: `Bearer ${f.adminKey}` } });
    const lines = (await res.text()).split('\n');
    const m = await exportTenant({
      log,
      keys: f.stk.runtime.privacy!.keys,
      tenant: leaving.tenant,
      out: out.path,
      readModels: lines,
      parts: [evidencePart(f.stk.runtime.readModels!.telemetry.evidence)],
    });
    assert.equal(m.parts, { evidence: 1 });
    assert.is(await readFile(join(out.path, 'evidence', 'ev-leave'), 'utf8'), 'leave memory dump');
    assert.ok(m.events > 5);
    assert.ok(m.readModelDocuments >= 4, `${m.readModelDocuments} documents`);
    assert.ok(m.dataKeys >= 2);
    const check = await verifyExport(out.path);
    assert.equal(check.problems, []);
    assert.ok(check.opened >= 3, `${check.opened} sealed events opened`);
    const events = await readFile(join(out.path, 'events.jsonl'), 'utf8');
    assert.ok(events.includes('leave-host') && events.includes('bash from nginx'), 'the customer gets its data readable');
    assert.not.ok(events.includes(staying.tenant), 'and nothing of another customer');
    // A byte changed in the export is found.
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(out.path, 'events.jsonl'), events.replace('leave-host', 'LEAVE-HOST'));
    assert.ok((await verifyExport(out.path)).problems.length >= 1);
  } finally {
    await out.cleanup();
  }

  const wrong = await f.call('DELETE', `/api/v1/tenants/${leaving.tenant}`, { body: { confirm: staying.tenant } });
  assert.is(wrong.status, 400);
  assert.is(wrong.body.error.code, 'STK_ERR_OFFBOARD_CONFIRM');
  const asOperator = await f.call('DELETE', `/api/v1/tenants/${leaving.tenant}`, { token: leaving.operator, body: { confirm: leaving.tenant } });
  assert.is(asOperator.status, 403);

  const gone = await f.call('DELETE', `/api/v1/tenants/${leaving.tenant}`, { body: { confirm: leaving.tenant } });
  assert.is(gone.status, 200, JSON.stringify(gone.body));
  assert.is(gone.body.agentsRevoked, 1);
  assert.is(gone.body.tokensRevoked, 2);
  assert.ok(gone.body.keysDestroyed >= 2);
  assert.is(gone.body.removed.evidence, 1);
  assert.is(gone.body.removed['scan-items'], 1);
  assert.equal(await storedOutside(leaving.tenant), [], "the tenant's scan items and package lists are gone");
  assert.is(await f.stk.runtime.streams.state(`OBJ_stk-evidence-${leaving.tenant}`), null, "the tenant's evidence bucket is gone");
  // The final signed head: the sealer's Ed25519 signature over the documented text, checked here with its public key.
  const fc = gone.body.finalCheckpoint;
  assert.ok(fc, 'the last entry was sealed within the wait');
  const { readKeyRecords } = await import('../../src/ledger/keyrecords.ts');
  const key = (await readKeyRecords(f.stk.runtime.streams)).find((r) => r.record.keyId === fc.block.keyId)!;
  assert.ok(verify(null, Buffer.from(fc.block.signedText), createPublicKey(key.record.publicKey), Buffer.from(fc.block.sig, 'base64')));
  assert.ok(fc.block.signedText.includes(`\n${fc.height}\n`) && fc.block.signedText.includes(fc.head));

  // Gone for everyone: the API, its tokens, its agents, its secret.
  assert.is((await f.call('GET', `/api/v1/tenants/${leaving.tenant}`)).status, 404);
  assert.is((await f.call('GET', `/api/v1/tenants/${leaving.tenant}/agents`, { token: leaving.operator })).status, 401);
  assert.not.ok(
    (await f.call('GET', '/api/v1/tenants')).body.items.some((t: { id: string }) => t.id === leaving.tenant),
    'not listed',
  );
  const report = await leaving.agent.report([{ kind: 'heartbeat', at: new Date().toISOString(), data: {} }]).catch((err: { code?: string }) => err);
  assert.ok(['STK_ERR_AGENT_REVOKED', 'STK_ERR_AGENT_CERT_INVALID'].includes((report as { code?: string }).code ?? ''), JSON.stringify(report));
  const again = await AgentClient.enroll({
    url: ing.ingress.url,
    caPem: ing.ingress.ca.certificatePem,
    secret: leaving.secret,
    hostname: 'x',
    os: 'linux',
    agentVersion: '1',
  }).catch((err: { code?: string }) => err);
  assert.is((again as { code?: string }).code, 'STK_ERR_ENROLL_SECRET_INVALID');
  // Its read models are removed, nothing but its chain is left; nothing personal can be written for it.
  const docs = await fetch(`${f.url}/api/v1/tenants/${leaving.tenant}/export/read-models`, { headers: { authorization: `Bearer ${f.adminKey}` } });
  assert.is(docs.status, 404);
  for (const p of f.stk.runtime.readModels!.store.projections) {
    const sub = f.stk.runtime.readModels!.store.tenantSub(p.model, f.stk.runtime.readModels!.store.activeGen(p.model), leaving.tenant);
    assert.equal(await sub.keys().all(), [], `${p.model} still holds documents`);
  }
  assert.is(await f.stk.runtime.privacy!.keys.tenantKey(leaving.tenant, true), 'destroyed');
  await rejects(
    execute(
      log,
      { tenant: leaving.tenant, id: leaving.agent.agentId },
      agentDecider,
      { kind: 'revoke', reason: 'x' },
      { actor: { kind: 'operator', id: 'admin' } },
    ).then(() =>
      log.append({ tenant: leaving.tenant, aggregateType: 'agent', aggregateId: 'zz' }, [{ type: 'agent.enrolled', data: { hostname: 'x' } }], {
        expectedVersion: 'no_stream',
      }),
    ),
    'STK_ERR_TENANT_DELETED',
  );

  // The id is reserved forever.
  const reuse = await f.call('POST', '/api/v1/tenants', { body: { id: leaving.tenant, name: 'New customer' } });
  assert.is(reuse.status, 409);
  assert.is(reuse.body.error.code, 'STK_ERR_TENANT_ID_RESERVED');
  assert.is((await f.call('DELETE', `/api/v1/tenants/${leaving.tenant}`, { body: { confirm: leaving.tenant } })).status, 404);

  // Both chains verify; every sealed entry of the offboarded one counts as shredded.
  await f.sealed(leaving.tenant);
  const v = await verifyLedger({ streams: f.stk.runtime.streams, tenants: [leaving.tenant, staying.tenant] });
  assert.ok(v.ok, JSON.stringify(v.tenants.map((t) => t.break)));
  assert.ok(v.tenants[0]!.shredded >= 5, `${v.tenants[0]!.shredded} shredded`);
  assert.is(v.tenants[1]!.shredded, 0);

  // The other customer: byte-identical, before and after a rebuild, and still working.
  await f.stk.runtime.readModels!.projector.waitFor(await log.lastPosition(), 10_000);
  assert.equal(await snapshot(staying.tenant), before);
  const rebuilt = await f.call('POST', '/api/v1/admin/projections/rebuild', { body: {} });
  assert.is(rebuilt.status, 200);
  assert.equal(await snapshot(staying.tenant), before);
  assert.is((await f.call('GET', `/api/v1/tenants/${leaving.tenant}`)).status, 404, 'a rebuild does not bring it back');
  const still = await staying.agent.report([{ kind: 'heartbeat', at: new Date().toISOString(), data: {} }]);
  assert.is(still.status, 202);
  const agents = await f.call(
    'GET',
    `/api/v1/tenants/${staying.tenant}/agents?waitFor=${await readToken(f.stk.runtime.streams, staying.tenant, await log.lastPosition())}`,
    {
      token: staying.operator,
    },
  );
  assert.is(agents.body.items[0].hostname, 'stay-host');
  leaving.agent.close();
  staying.agent.close();
});

test.run();
