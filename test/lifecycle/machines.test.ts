import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HostRoot } from '../../src/agent/host-root.ts';
import { machineFingerprint } from '../../src/agent/machine.ts';
import { AgentClient } from '../../src/agent/client.ts';
import { freshTenant } from '../helpers/events.ts';
import { tempDir } from '../helpers/nats.ts';
import { ingressOn, lifecycleFixture, type LifecycleFixture } from './fixture.ts';

/**
 * Revocation can block the machine: enrollment over the real ingress with a machine fingerprint,
 * the block set by the operator API's revoke, lifted by an admin.
 */
const test = suite('lifecycle: a revoked machine cannot enroll again until an admin lifts the block');
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

const enroll = (secret: string, machine?: string) =>
  AgentClient.enroll({
    url: ing.ingress.url,
    caPem: ing.ingress.ca.certificatePem,
    secret,
    hostname: 'laptop-7',
    os: 'linux',
    agentVersion: '1',
    ...(machine ? { machine } : {}),
  });

async function refusedCode(p: Promise<AgentClient>): Promise<string | undefined> {
  try {
    (await p).close();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

test('blocked with the same secret; another machine or the same one in another tenant enrolls; lifting the block lets it back', async () => {
  const tenant = freshTenant('blk');
  const other = freshTenant('blk-other');
  const { enrollSecret } = await f.tenant(tenant);
  const { enrollSecret: otherSecret } = await f.tenant(other);
  const machine = randomBytes(32).toString('hex');
  const first = await enroll(enrollSecret, machine);
  first.close();
  await f.stk.runtime.readModels!.projector.waitFor(await f.stk.runtime.log.lastPosition(), 10_000);

  const operator = await f.token(tenant, 'operator');
  const asOperator = await f.call('POST', `/api/v1/tenants/${tenant}/agents/${first.agentId}/revoke`, { token: operator, body: { blockMachine: true } });
  assert.is(asOperator.status, 403, 'blocking a machine is the admin’s');
  assert.is(asOperator.body.error.code, 'STK_ERR_FORBIDDEN');

  const revoked = await f.call('POST', `/api/v1/tenants/${tenant}/agents/${first.agentId}/revoke`, { body: { reason: 'stolen laptop', blockMachine: true } });
  assert.is(revoked.status, 200, JSON.stringify(revoked.body));
  assert.is(revoked.body.status, 'revoked');
  assert.is(revoked.body.machineBlocked, true);

  assert.is(await refusedCode(enroll(enrollSecret, machine)), 'STK_ERR_ENROLL_MACHINE_BLOCKED');
  // What the block does not stop (the docs say so): the secret with another fingerprint, or none.
  assert.is(await refusedCode(enroll(enrollSecret, randomBytes(32).toString('hex'))), undefined);
  assert.is(await refusedCode(enroll(enrollSecret)), undefined);
  // A block is the tenant's: the same machine enrolls into another tenant.
  assert.is(await refusedCode(enroll(otherSecret, machine)), undefined);

  const list = await f.call('GET', `/api/v1/tenants/${tenant}/machines?blocked=true&waitFor=${revoked.body.consistencyToken}`);
  assert.equal(
    list.body.items.map((m: { id: string; agentId: string }) => [m.id, m.agentId]),
    [[machine, first.agentId]],
  );
  assert.equal((await f.call('GET', `/api/v1/tenants/${other}/machines`)).body.items, []);

  const lifted = await f.call('POST', `/api/v1/tenants/${tenant}/machines/${machine}/unblock`);
  assert.is(lifted.status, 200, JSON.stringify(lifted.body));
  assert.is(lifted.body.blocked, false);
  assert.is(await refusedCode(enroll(enrollSecret, machine)), undefined);
  const again = await f.call('POST', `/api/v1/tenants/${tenant}/machines/${machine}/unblock`);
  assert.is(again.status, 404);
});

test('an agent that sent no fingerprint cannot have its machine blocked: refused before anything is written', async () => {
  const tenant = freshTenant('nofp');
  const { enrollSecret } = await f.tenant(tenant);
  const a = await enroll(enrollSecret);
  a.close();
  const before = await f.stk.runtime.log.lastPosition();
  // The revoke route reads the agent from the read models: without this wait a loaded machine answers 404 (CI did).
  assert.ok(await f.stk.runtime.readModels!.projector.waitFor(before, 30_000), 'read models caught up with the enrollment');
  const r = await f.call('POST', `/api/v1/tenants/${tenant}/agents/${a.agentId}/revoke`, { body: { blockMachine: true } });
  assert.is(r.status, 400);
  assert.is(r.body.error.code, 'STK_ERR_VALIDATION');
  assert.is(await f.stk.runtime.log.lastPosition(), before);
});

test('the fingerprint: the machine id bound to the install’s CA, never the id itself; none without a machine id', async () => {
  const dir = await tempDir('stk-machine-');
  try {
    await mkdir(join(dir.path, 'etc'), { recursive: true });
    const id = '0123456789abcdef0123456789abcdef';
    await writeFile(join(dir.path, 'etc/machine-id'), `${id}\n`);
    const root = await HostRoot.open(dir.path);
    const fp = await machineFingerprint(root, ing.ingress.ca.certificatePem);
    assert.match(fp ?? '', /^[0-9a-f]{64}$/);
    assert.is(await machineFingerprint(root, ing.ingress.ca.certificatePem), fp, 'stable');
    assert.not.ok(fp!.includes(id));
    const other = await ingressOn(f);
    try {
      assert.is.not(await machineFingerprint(root, other.ingress.ca.certificatePem), fp, 'another install sees another fingerprint');
    } finally {
      await other.close();
    }
    const empty = await tempDir('stk-machine-empty-');
    try {
      assert.is(await machineFingerprint(await HostRoot.open(empty.path), ing.ingress.ca.certificatePem), null);
    } finally {
      await empty.cleanup();
    }
  } finally {
    await dir.cleanup();
  }
});

test.run();
