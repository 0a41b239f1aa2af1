import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentClient } from '../../src/agent/client.ts';
import { IngressClient } from '../../src/agent/run/client.ts';
import { API_PLUGINS } from '../../src/roles.ts';
import { EVIDENCE_FORMAT, sealedSize } from '../../src/evidence/crypt.ts';
import { EVIDENCE_HEADERS, EvidenceStore, evidenceBucketName, sha256Hex } from '../../src/evidence/store.ts';
import { evidencePart } from '../../src/lifecycle/export.ts';
import { DATA_KEYS_BUCKET } from '../../src/privacy/mod.ts';
import { apiFixture, type ApiFixture } from '../helpers/api.ts';
import { rejects } from '../helpers/assert.ts';
import { freshTenant, readToken } from '../helpers/events.ts';
import { applyRetention, tenantStates } from '../../src/lifecycle/retention.ts';
import { ingressOn, lifecycleFixture, type LifecycleFixture } from './fixture.ts';

/**
 * Evidence bytes at rest: with field encryption on they are stored encrypted under the collecting
 * machine's data key, download in the clear with their sealed SHA-256, and are gone for good once
 * the machine is erased; objects stored in the clear before (or with encryption off) still download.
 * Real nats-server, real ingress with mTLS, real API.
 */
const test = suite('lifecycle: evidence bytes encrypted under their machine’s key');
let f: LifecycleFixture;
let ing: Awaited<ReturnType<typeof ingressOn>>;
let plainIng: Awaited<ReturnType<typeof ingressOn>>;
test.before(async () => {
  f = await lifecycleFixture();
  ing = await ingressOn(f);
  plainIng = await ingressOn(f, undefined, { plain: true });
});
test.after(async () => {
  await plainIng?.close();
  await ing?.close();
  await f?.cleanup();
});

const MARKER = 'root:x:0:0:secret-marker-of-alice';
/** Bytes over several chunks that hold a recognisable text throughout. */
function evidenceBytes(label: string, sizeBytes: number): Buffer {
  const line = Buffer.from(`${MARKER} ${label}\n`);
  const out = Buffer.alloc(sizeBytes);
  for (let at = 0; at < sizeBytes; at += line.length) line.copy(out, at);
  return out;
}

async function agentOn(ingress: Awaited<ReturnType<typeof ingressOn>>['ingress'], secret: string, host: string): Promise<IngressClient> {
  const enrolled = await AgentClient.enroll({ url: ingress.url, caPem: ingress.ca.certificatePem, secret, hostname: host, os: 'linux', agentVersion: '1' });
  enrolled.close();
  return new IngressClient(enrolled.state);
}

/** Dispatches collect-evidence to the agent, uploads `bytes` as its answer; returns the command and evidence ids and the read token. */
async function collect(fx: ApiFixture, tenant: string, agent: IngressClient, bytes: Buffer): Promise<{ commandId: string; evidenceId: string; token: string }> {
  const cmd = await fx.call('POST', `/api/v1/tenants/${tenant}/agents/${agent.agentId}/commands`, {
    body: { action: 'collect-evidence', args: { path: '/etc/shadow' } },
  });
  assert.is(cmd.status, 201, JSON.stringify(cmd.body));
  const up = await agent.evidence(cmd.body.id, '/etc/shadow', sha256Hex(bytes), bytes);
  assert.is(up.status, 201, JSON.stringify(up.body));
  const body = up.body as { evidenceId: string; consistencyToken: string };
  return { commandId: cmd.body.id, evidenceId: body.evidenceId, token: body.consistencyToken };
}

async function download(fx: ApiFixture, tenant: string, evidenceId: string, token?: string) {
  const q = token ? `?waitFor=${token}` : '';
  const res = await fetch(`${fx.url}/api/v1/tenants/${tenant}/evidence/${evidenceId}/content${q}`, { headers: { authorization: `Bearer ${fx.adminKey}` } });
  const bytes = Buffer.from(await res.arrayBuffer());
  let code: string | null = null;
  if (res.status !== 200) code = (JSON.parse(bytes.toString('utf8')) as { error: { code: string } }).error.code;
  return { status: res.status, bytes, code, sha256: res.headers.get('x-stockade-sha256') };
}

/** The object as anyone reading the NATS object store directly gets it. */
async function raw(fx: ApiFixture, tenant: string, evidenceId: string) {
  const bucket = await fx.stk.runtime.streams.objectBucket(evidenceBucketName(tenant));
  const info = await bucket.info(evidenceId);
  const data = await bucket.get(evidenceId);
  assert.ok(info && data, 'the object is in the store');
  return { info: info!, data: Buffer.from(data!) };
}

const downloads = async (tenant: string, evidenceId: string): Promise<number> =>
  (await f.stk.runtime.log.readAggregate({ tenant, aggregateType: 'evidence', aggregateId: evidenceId })).events.filter((e) => e.type === 'evidence.downloaded')
    .length;

test('stored encrypted under the machine’s evidence key; the download is the plaintext with its sealed SHA-256', async () => {
  const tenant = freshTenant('evc');
  const { enrollSecret } = await f.tenant(tenant, ['edr']);
  const agent = await agentOn(ing.ingress, enrollSecret, 'alice-laptop');
  try {
    // Three and a half chunks: every chunk and the short last one go through.
    const bytes = evidenceBytes('alice', 3.5 * 64 * 1024);
    const { commandId, evidenceId, token } = await collect(f, tenant, agent, bytes);
    const stored = await raw(f, tenant, evidenceId);
    assert.not.ok(stored.data.includes(MARKER), 'the stored bytes hold none of the plaintext');
    assert.is(stored.data.length, sealedSize(bytes.length));
    assert.is(stored.info.headers[EVIDENCE_HEADERS.format], EVIDENCE_FORMAT);
    assert.is(stored.info.headers[EVIDENCE_HEADERS.sha256], sha256Hex(bytes));
    assert.is(stored.info.headers[EVIDENCE_HEADERS.size], String(bytes.length));
    // The key is the machine's own, kind evidence: the subject its events are sealed under.
    const keys = f.stk.runtime.privacy!.keys;
    const machineKeys = await keys.keysOfSubject(tenant, await keys.subjectId(tenant, `agent:${agent.agentId}`));
    const keyId = stored.info.headers[EVIDENCE_HEADERS.key];
    assert.equal(
      machineKeys.filter((k) => k.keyId === keyId).map((k) => k.kind),
      ['evidence'],
    );

    const got = await download(f, tenant, evidenceId, token);
    assert.is(got.status, 200, got.bytes.toString('utf8', 0, 300));
    assert.ok(got.bytes.equals(bytes), 'the download is the plaintext');
    assert.is(sha256Hex(got.bytes), sha256Hex(bytes));
    assert.is(got.sha256, sha256Hex(bytes));
    // The chain of custody seals the plaintext's hash, not the ciphertext's.
    const events = (await f.stk.runtime.log.readAggregate({ tenant, aggregateType: 'evidence', aggregateId: evidenceId })).events;
    assert.is((events[0]!.data as { sha256: string }).sha256, sha256Hex(bytes));
    assert.is(await downloads(tenant, evidenceId), 1);

    // Sent again, the same bytes are not stored again.
    const before = stored.info;
    const again = await agent.evidence(commandId, '/etc/shadow', sha256Hex(bytes), bytes);
    assert.equal([again.status, (again.body as { duplicate: boolean }).duplicate], [201, true]);
    assert.is((await raw(f, tenant, evidenceId)).info.headers[EVIDENCE_HEADERS.salt], before.headers[EVIDENCE_HEADERS.salt]);
  } finally {
    agent.close();
  }
});

test('a stored object that was changed is refused with STK_ERR_EVIDENCE_INTEGRITY and no download is recorded', async () => {
  const tenant = freshTenant('evt');
  const { enrollSecret } = await f.tenant(tenant, ['edr']);
  const agent = await agentOn(ing.ingress, enrollSecret, 'bob-laptop');
  try {
    const bytes = evidenceBytes('bob', 100_000);
    const { evidenceId, token } = await collect(f, tenant, agent, bytes);
    const stored = await raw(f, tenant, evidenceId);
    const bucket = await f.stk.runtime.streams.objectBucket(evidenceBucketName(tenant));
    // One bit flipped in the second chunk, headers kept: the chunk's tag no longer matches.
    const changed = Buffer.from(stored.data);
    changed[70_000] = changed[70_000]! ^ 1;
    await bucket.put(evidenceId, changed, { headers: stored.info.headers });
    const got = await download(f, tenant, evidenceId, token);
    assert.equal([got.status, got.code], [409, 'STK_ERR_EVIDENCE_INTEGRITY']);
    // The last chunk dropped: the object now ends on a chunk that was not sealed as the last one.
    await bucket.put(evidenceId, stored.data.subarray(0, 64 * 1024 + 16), { headers: stored.info.headers });
    assert.equal((await download(f, tenant, evidenceId)).code, 'STK_ERR_EVIDENCE_INTEGRITY');
    assert.is(await downloads(tenant, evidenceId), 0);
  } finally {
    agent.close();
  }
});

test('after the machine is erased its evidence download is refused with STK_ERR_EVIDENCE_ERASED and the stored object opens for no one; another machine’s still downloads', async () => {
  const tenant = freshTenant('eve');
  const { enrollSecret } = await f.tenant(tenant, ['edr']);
  const leaver = await agentOn(ing.ingress, enrollSecret, 'leaver-laptop');
  const stays = await agentOn(ing.ingress, enrollSecret, 'db-server');
  const out = await mkdtemp(join(tmpdir(), 'stk-evidence-export-'));
  try {
    const bytes = evidenceBytes('leaver', 70_000);
    const other = evidenceBytes('db', 1000);
    const gone = await collect(f, tenant, leaver, bytes);
    const kept = await collect(f, tenant, stays, other);
    assert.is((await download(f, tenant, gone.evidenceId, gone.token)).status, 200);
    const keyId = (await raw(f, tenant, gone.evidenceId)).info.headers[EVIDENCE_HEADERS.key]!;

    const erased = await f.call('POST', `/api/v1/tenants/${tenant}/erasures`, { body: { subject: `agent:${leaver.agentId}`, reference: 'DSR-1' } });
    assert.is(erased.status, 201, JSON.stringify(erased.body));
    assert.ok(erased.body.keysDestroyed >= 2, 'its events key and its evidence key');

    const refused = await download(f, tenant, gone.evidenceId, erased.body.consistencyToken);
    assert.equal([refused.status, refused.code], [410, 'STK_ERR_EVIDENCE_ERASED']);
    assert.is(await downloads(tenant, gone.evidenceId), 1, 'the refused download is not in the custody trail');
    // Read straight from NATS: the object is still ciphertext, and its key is erased from the key store.
    const stored = await raw(f, tenant, gone.evidenceId);
    assert.not.ok(stored.data.includes(MARKER));
    const kv = await f.stk.runtime.streams.bucket(DATA_KEYS_BUCKET);
    const entry = await kv.get(`k.${tenant}.${keyId}`);
    assert.ok(entry === null || entry.operation !== 'PUT', 'the wrapped data key is no longer stored');
    assert.is(await f.stk.runtime.privacy!.keys.key(tenant, keyId), null);
    // Nor does any other store on the key store: no copy of the key survives the destruction.
    await rejects(
      new EvidenceStore(f.stk.runtime.streams, { keys: f.stk.runtime.privacy!.keys }).read(tenant, gone.evidenceId, sha256Hex(bytes)),
      'STK_ERR_EVIDENCE_ERASED',
    );
    // The sealed hash of the plaintext stays in the chain.
    const events = (await f.stk.runtime.log.readAggregate({ tenant, aggregateType: 'evidence', aggregateId: gone.evidenceId })).events;
    assert.is((events[0]!.data as { sha256: string }).sha256, sha256Hex(bytes));

    const still = await download(f, tenant, kept.evidenceId, kept.token);
    assert.is(still.status, 200);
    assert.ok(still.bytes.equals(other));

    // The customer's export holds the other machine's evidence in the clear and counts the erased one.
    const parts = await evidencePart(f.stk.runtime.readModels!.telemetry.evidence)({ log: f.stk.runtime.log, tenant, out });
    assert.equal(parts, { evidence: 1, evidenceErased: 1 });
    assert.ok((await readFile(join(out, 'evidence', kept.evidenceId))).equals(other));
  } finally {
    leaver.close();
    stays.close();
    await rm(out, { recursive: true, force: true });
  }
});

test('when its month ages out by the evidence retention, the key goes and the download is refused with STK_ERR_EVIDENCE_ERASED', async () => {
  const tenant = freshTenant('evr');
  const { enrollSecret } = await f.tenant(tenant, ['edr']);
  const agent = await agentOn(ing.ingress, enrollSecret, 'old-laptop');
  try {
    const bytes = evidenceBytes('aged', 2000);
    const { evidenceId, token } = await collect(f, tenant, agent, bytes);
    assert.is((await download(f, tenant, evidenceId, token)).status, 200);
    const log = f.stk.runtime.log;
    const tenants = new Map([...(await tenantStates(log))].filter(([t]) => t === tenant));
    // Two years on, a year of evidence is long past this month; only the evidence kind is kept for a limited time here.
    const now = new Date(Date.now() + 2 * 365 * 86_400_000);
    const r = await applyRetention({
      log,
      keys: f.stk.runtime.privacy!.keys,
      now,
      defaults: { events: null, evidence: 365, 'scan-items': null, telemetry: null },
      tenants,
    });
    assert.equal(
      r.destroyed.map((d) => [d.tenant, d.kind]),
      [[tenant, 'evidence']],
    );
    const t = await readToken(f.stk.runtime.streams, tenant, await log.lastPosition());
    const refused = await download(f, tenant, evidenceId, t);
    assert.equal([refused.status, refused.code], [410, 'STK_ERR_EVIDENCE_ERASED']);
  } finally {
    agent.close();
  }
});

test('evidence stored in the clear before encryption (no format header) still downloads, checked against its sealed hash', async () => {
  const tenant = freshTenant('evp');
  const { enrollSecret } = await f.tenant(tenant, ['edr']);
  const agent = await agentOn(plainIng.ingress, enrollSecret, 'old-host');
  try {
    const bytes = evidenceBytes('old', 5000);
    const { evidenceId, token } = await collect(f, tenant, agent, bytes);
    const stored = await raw(f, tenant, evidenceId);
    assert.ok(stored.data.equals(bytes), 'stored as it came');
    assert.is(stored.info.headers[EVIDENCE_HEADERS.format], undefined);
    const got = await download(f, tenant, evidenceId, token);
    assert.is(got.status, 200);
    assert.ok(got.bytes.equals(bytes));
    // An object in the clear whose bytes changed is still caught by the sealed hash.
    const bucket = await f.stk.runtime.streams.objectBucket(evidenceBucketName(tenant));
    await bucket.put(evidenceId, evidenceBytes('OLD', 5000), { headers: stored.info.headers });
    assert.equal((await download(f, tenant, evidenceId)).code, 'STK_ERR_EVIDENCE_INTEGRITY');
  } finally {
    agent.close();
  }
});

test('with field encryption off evidence is stored in the clear and downloads', async () => {
  const off = await apiFixture({ plugins: API_PLUGINS });
  let offIng: Awaited<ReturnType<typeof ingressOn>> | undefined;
  let agent: IngressClient | undefined;
  try {
    assert.is(off.stk.runtime.privacy, null);
    offIng = await ingressOn(off);
    const tenant = freshTenant('evo');
    const { enrollSecret } = await off.tenant(tenant, ['edr']);
    agent = await agentOn(offIng.ingress, enrollSecret, 'plain-host');
    const bytes = evidenceBytes('plain', 80_000);
    const { evidenceId, token } = await collect(off, tenant, agent, bytes);
    const stored = await raw(off, tenant, evidenceId);
    assert.ok(stored.data.equals(bytes));
    assert.is(stored.info.headers[EVIDENCE_HEADERS.format], undefined);
    const got = await download(off, tenant, evidenceId, token);
    assert.is(got.status, 200);
    assert.ok(got.bytes.equals(bytes));
  } finally {
    agent?.close();
    await offIng?.close();
    await off.cleanup();
  }
});

test.run();
