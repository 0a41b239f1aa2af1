// A small, fixed story for the video tests to film, made through the real paths only: customers and
// operator actions through the API, agents enrolled through the mTLS ingress that report like the
// reference agent. (`stockade demo seed` will tell a longer one; this is enough for every page.)
import type { AgentClient } from '../../src/agent/client.ts';
import type { Stockade } from '../../src/serve.ts';
import { apiCall, enrollAgent } from '../dashboard/stack.ts';
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
  } finally {
    for (const a of agents) a.close();
  }
}
