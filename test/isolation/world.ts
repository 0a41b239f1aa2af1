import { agentCommandDecider } from '../../commands/agent-commands/decider.ts';
import { deliveryDecider } from '../../commands/deliveries/decider.ts';
import { randomBytes, randomUUID } from 'node:crypto';
import { machineDecider } from '../../commands/machines/decider.ts';
import { evidenceDecider } from '../../commands/evidence/decider.ts';
import { execute } from '../../src/domain/execute.ts';
import { recordInventory, recordJob } from '../../src/patch/ingest.ts';
import { packagesStreamSpec } from '../../src/patch/packages.ts';
import { storeRunItems } from '../../src/scan/runs/items.ts';
import { sealRun } from '../../src/scan/runs/seal.ts';
import { scansStreamSpec } from '../../src/scan/runs/stream.ts';
import { newId } from '../../src/ids.ts';
import { PRODUCTS } from '../../src/domain/products.ts';
import { EvidenceStore, evidenceBucketName, sha256Hex } from '../../src/evidence/store.ts';
import { storeTelemetryBatch } from '../../src/telemetry/ingest.ts';
import { telemetryRoot } from '../../src/telemetry/items.ts';
import { accountItem, connectionItem, processItem } from '../edr/items.ts';
import type { ApiFixture } from '../helpers/api.ts';
import { AGENT_ACTOR, ANY_CONTEXT, enrollAgent, readToken, freshTenant, raiseAlert, reportFinding } from '../helpers/events.ts';

/** One tenant's world: an item of every kind, its tokens, and the ids to aim at it. */
export interface World {
  tenant: string;
  operator: string;
  auditor: string;
  ids: Record<string, string>;
}

/**
 * Builds a tenant with every product on and one item of every read model: agent events as the
 * ingress appends them, operator actions through the API.
 */
export async function buildWorld(f: ApiFixture, label: string): Promise<World> {
  const log = f.stk.runtime.log;
  const tenant = freshTenant(label);
  await f.tenant(tenant, [...PRODUCTS]);
  const operator = await f.token(tenant, 'operator');
  const auditor = await f.token(tenant, 'auditor');
  const { agentId } = await enrollAgent(log, tenant, `${label}-host`);
  const { alertId } = await raiseAlert(log, tenant, agentId, { title: `${label} alert` });
  const { alertId: spareAlertId } = await raiseAlert(log, tenant, agentId, { title: `${label} spare` });
  const { findingId } = await reportFinding(log, tenant, agentId);
  // A sealed scan run with its items in SCANS, and a patch inventory and job of the agent.
  await log.streams.ensureStream(scansStreamSpec({ updateMutable: false }));
  const runId = newId();
  const scanItems = [
    { target: '192.0.2.10', address: '192.0.2.10', port: 22, state: 'open' as const, banner: `SSH-2.0-${label}` },
    { target: '192.0.2.10', address: '192.0.2.10', port: 80, state: 'closed' as const },
  ];
  await storeRunItems(log, tenant, runId, 0, scanItems);
  await sealRun(log, {
    tenant,
    runId,
    source: 'agent',
    agentId,
    commandId: null,
    targets: ['192.0.2.10'],
    ports: [22, 80],
    count: scanItems.length,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:01:00.000Z',
    aborted: false,
    services: [{ protocol: 'tcp', address: '0.0.0.0', port: 22, pid: 1, exe: '/usr/sbin/sshd', name: 'sshd', user: 'root' }],
    actor: AGENT_ACTOR(agentId),
  });
  await log.streams.ensureStream(packagesStreamSpec());
  await recordInventory(
    log,
    { tenant, agentId },
    {
      kind: 'patch-inventory',
      takenAt: '2026-01-01T00:00:00.000Z',
      os: null,
      packages: [{ name: 'openssl', version: '3.0.1', architecture: 'amd64', source: 'openssl', sourceVersion: '3.0.1', status: 'installed', held: false }],
      upgrades: [
        { package: 'openssl', architecture: 'amd64', from: '3.0.1', to: '3.0.2', security: true, releases: [], publishedBy: null, keptBack: false, cves: [] },
      ],
      newInstalls: [],
      removals: [],
      reboot: { required: false, packages: [] },
      listsRefreshed: true,
      warnings: [],
    },
    { now: new Date('2026-01-02T00:00:00.000Z') },
  );
  const jobId = newId();
  await execute(
    log,
    { tenant, id: jobId },
    agentCommandDecider,
    { kind: 'dispatch', command: { agentId, action: 'install-patches', args: { mode: 'security', dryRun: true } }, context: ANY_CONTEXT },
    { actor: { kind: 'operator', id: 'admin' }, known: 'new' },
  );
  await recordJob(log, { tenant, agentId }, jobId, {
    mode: 'security',
    dryRun: true,
    startedAt: '2026-01-02T00:00:00.000Z',
    finishedAt: '2026-01-02T00:00:05.000Z',
    listsRefreshed: true,
    succeeded: true,
    rebootRequired: false,
    results: [],
  });
  const evidenceId = newId();
  // Evidence with its bytes in the tenant's object store, as an agent's upload leaves it.
  const bytes = Buffer.from(`${label} evidence bytes`);
  await new EvidenceStore(log.streams).put(tenant, evidenceId, bytes);
  const ev = await execute(
    log,
    { tenant: tenant, id: evidenceId },
    evidenceDecider,
    {
      kind: 'collect',
      evidence: {
        agentId,
        name: 'memory.dmp',
        sha256: sha256Hex(bytes),
        sizeBytes: bytes.length,
        collectedAt: '2026-01-01T00:00:00.000Z',
        stored: { bucket: evidenceBucketName(tenant), object: evidenceId },
      },
    },
    { actor: AGENT_ACTOR(agentId), known: 'new' },
  );
  // Telemetry of every kind, stored and sealed as the ingress does it, then read back as the API shows it.
  const items = [processItem(4242), connectionItem(443), accountItem(`${label}-user`)];
  const sealed = await storeTelemetryBatch(log, { tenant, agentId, products: PRODUCTS }, { batchId: `w-${label}`, merkleRoot: telemetryRoot(items), items });
  const telemetry = f.stk.runtime.readModels!.telemetry;
  if (!(await telemetry.projector.waitFor(sealed.telemetryPosition, 10_000))) throw new Error('telemetry projector behind');
  const tstore = telemetry.projector.store.forTenant(tenant);
  const processId = (await tstore.list('processes')).items[0]!.id;
  const connectionId = (await tstore.list('connections')).items[0]!.id;
  const identityId = (await tstore.list('identities')).items[0]!.id;
  const cmd = await f.call('POST', `/api/v1/tenants/${tenant}/agents/${agentId}/commands`, { body: { action: 'ping' } });
  if (cmd.status !== 201) throw new Error(`dispatch: ${JSON.stringify(cmd.body)}`);
  const commandId = newId();
  await execute(
    log,
    { tenant: tenant, id: commandId },
    agentCommandDecider,
    { kind: 'dispatch', command: { agentId, action: 'ping', args: {} }, context: ANY_CONTEXT },
    { actor: { kind: 'operator', id: 'admin' }, known: 'new' },
  );
  // A user with a role here, and a four-eyes request waiting for a second person.
  const user = await f.call('POST', '/api/v1/users', { body: { name: `${label} person`, email: `${label}-${tenant}@example.test` } });
  if (user.status !== 201) throw new Error(`user: ${JSON.stringify(user.body)}`);
  const grant = await f.call('PUT', `/api/v1/tenants/${tenant}/access`, { body: { userId: user.body.id, roles: ['customer-analyst'] } });
  if (grant.status !== 200) throw new Error(`grant: ${JSON.stringify(grant.body)}`);
  const policy = await f.call('PUT', `/api/v1/tenants/${tenant}/policy`, { body: { fourEyes: ['isolate-host'] } });
  if (policy.status !== 200) throw new Error(`policy: ${JSON.stringify(policy.body)}`);
  const approval = await f.call('POST', `/api/v1/tenants/${tenant}/agents/${agentId}/commands`, { body: { action: 'isolate-host' } });
  if (approval.status !== 202) throw new Error(`four eyes: ${approval.status} ${JSON.stringify(approval.body)}`);
  // A machine blocked when one of its agents was revoked (issue 16).
  const machine = randomBytes(32).toString('hex');
  await execute(log, { tenant, id: machine }, machineDecider, { kind: 'block', agentId }, { actor: { kind: 'operator', id: 'admin' }, known: 'new' });
  const inc = await f.call('POST', `/api/v1/tenants/${tenant}/incidents`, { body: { title: `${label} incident`, severity: 'high', alertIds: [alertId] } });
  if (inc.status !== 201) throw new Error(`incident: ${JSON.stringify(inc.body)}`);
  const rule = await f.call('POST', `/api/v1/tenants/${tenant}/detection/custom-rules`, { body: { name: `${label}.yml`, yaml: customRuleYaml(randomUUID()) } });
  if (rule.status !== 201) throw new Error(`custom rule: ${JSON.stringify(rule.body)}`);
  const channel = await f.call('POST', `/api/v1/tenants/${tenant}/notifications/channels`, { body: channelInput(label) });
  if (channel.status !== 201) throw new Error(`channel: ${JSON.stringify(channel.body)}`);
  const deliveryId = newId();
  await execute(
    log,
    { tenant, id: deliveryId },
    deliveryDecider,
    {
      kind: 'queue',
      delivery: {
        alertId,
        channelId: channel.body.id,
        channelKind: 'webhook',
        channelName: label,
        recipients: ['hooks.example.com'],
        group: {
          tenant,
          alertId,
          ruleId: 'edr.suspicious-child',
          ruleVersion: 'agent',
          title: `${label} alert`,
          severity: 'high',
          attack: [],
          host: `${label}-host`,
          count: 1,
          firstSeen: '2026-01-01T00:00:00.000Z',
          lastSeen: '2026-01-01T00:00:00.000Z',
        },
        notifiedCount: 0,
      },
    },
    { actor: { kind: 'system', id: 'outbox' }, known: 'new' },
  );
  const tokens = await f.call('GET', `/api/v1/tenants/${tenant}/tokens`);
  const audit = await f.call('GET', `/api/v1/tenants/${tenant}/audit?limit=1&waitFor=${await readToken(log.streams, tenant, ev.position)}`);
  return {
    tenant,
    operator,
    auditor,
    ids: {
      tenant,
      agentId,
      alertId,
      spareAlertId,
      findingId,
      runId,
      itemId: '0',
      jobId,
      evidenceId,
      commandId,
      incidentId: inc.body.id,
      tokenId: tokens.body.items[0].id,
      entryId: audit.body.items[0].id,
      userId: user.body.id,
      approvalId: approval.body.approvalId,
      product: 'edr',
      hostname: `${label}-host`,
      processId,
      connectionId,
      identityId,
      telemetryItemId: `${(await tstore.list('processes')).items[0]!.itemId}`,
      ruleId: rule.body.id,
      channelId: channel.body.id,
      deliveryId,
      machine,
    },
  };
}

/** A valid custom rule with this id (the isolation cases upload and replace them). */
export function customRuleYaml(id: string): string {
  return [
    'title: Isolation Probe',
    `id: ${id}`,
    'logsource:',
    '    product: linux',
    '    category: process_creation',
    'detection:',
    '    selection:',
    '        Image|endswith: /probe',
    '    condition: selection',
    'level: low',
    '',
  ].join('\n');
}

/** A webhook channel that is never reached by these tests. */
export function channelInput(label: string) {
  return {
    kind: 'webhook',
    name: `${label} SOC`,
    settings: { url: 'https://hooks.example.com/stockade', secret: 'stk_whsec_isolation-test-secret-0123456789' },
    routing: { minSeverity: 'high' },
  };
}
