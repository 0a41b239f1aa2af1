/**
 * One case per operator route under /api/v1/tenants/{tenant}: a valid body to send, aimed at the
 * ids of `ids`. The HTTP isolation suite fails for a route that has no case here, so a new route
 * cannot ship without being tried against another tenant.
 */
export interface RouteCase {
  /** A schema-valid body built from the target ids (so a refusal is the wall, not validation). */
  body?: (ids: Record<string, string>) => unknown;
  /** A query that names the target ids (list filters). */
  query?: (ids: Record<string, string>) => string;
  /** Routes whose path names no item: what a foreign id in body or query must give. */
  foreign?: 'not-found' | 'empty-list' | 'empty-export' | 'none';
}

export const CASES: Record<string, RouteCase> = {
  'GET /api/v1/tenants/{tenant}': { foreign: 'none' },
  'PATCH /api/v1/tenants/{tenant}': { body: () => ({ name: 'Renamed' }), foreign: 'none' },
  'POST /api/v1/tenants/{tenant}/enroll-secret/rotate': { foreign: 'none' },
  'PUT /api/v1/tenants/{tenant}/products/{product}': { body: () => ({ enabled: true }), foreign: 'none' },
  'POST /api/v1/tenants/{tenant}/suspend': { body: () => ({ reason: 'test' }), foreign: 'none' },
  'POST /api/v1/tenants/{tenant}/resume': { foreign: 'none' },
  'PUT /api/v1/tenants/{tenant}/open-enrollment': { body: () => ({ enabled: true }), foreign: 'none' },
  'POST /api/v1/tenants/{tenant}/tokens': { body: () => ({ role: 'auditor' }), foreign: 'none' },
  'GET /api/v1/tenants/{tenant}/tokens': { foreign: 'none' },
  'POST /api/v1/tenants/{tenant}/tokens/{tokenId}/revoke': {},
  'GET /api/v1/tenants/{tenant}/overview': { foreign: 'none' },
  'GET /api/v1/tenants/{tenant}/stats': { query: () => 'days=30', foreign: 'none' },
  'GET /api/v1/tenants/{tenant}/agents/export': { query: (i) => `format=json&hostname=${i.hostname ?? 'x'}`, foreign: 'empty-export' },
  'GET /api/v1/tenants/{tenant}/commands/export': { query: (i) => `format=json&agentId=${i.agentId}`, foreign: 'empty-export' },
  'POST /api/v1/tenants/{tenant}/commands/{commandId}/cancel': { body: () => ({ reason: 'test' }) },
  'GET /api/v1/tenants/{tenant}/alerts/export': { query: (i) => `format=json&agentId=${i.agentId}`, foreign: 'empty-export' },
  'POST /api/v1/tenants/{tenant}/alerts/bulk': { body: (i) => ({ action: 'acknowledge', alertIds: [i.spareAlertId] }), foreign: 'not-found' },
  'GET /api/v1/tenants/{tenant}/incidents/export': { query: () => 'format=json&status=open', foreign: 'none' },
  'POST /api/v1/tenants/{tenant}/incidents/{incidentId}/comments': { body: () => ({ text: 'test' }) },
  'POST /api/v1/tenants/{tenant}/incidents/{incidentId}/reopen': { body: () => ({ reason: 'test' }) },
  'GET /api/v1/tenants/{tenant}/findings/export': { query: (i) => `format=json&agentId=${i.agentId}`, foreign: 'empty-export' },
  'POST /api/v1/tenants/{tenant}/findings/bulk': {
    body: (i) => ({ findingIds: [i.findingId], state: 'false-positive', reason: 'test' }),
    foreign: 'not-found',
  },
  'GET /api/v1/tenants/{tenant}/scans/export': { query: (i) => `format=json&agentId=${i.agentId}`, foreign: 'empty-export' },
  'GET /api/v1/tenants/{tenant}/evidence/export': { query: (i) => `format=json&agentId=${i.agentId}`, foreign: 'empty-export' },
  'GET /api/v1/tenants/{tenant}/agents': { query: (i) => `hostname=${i.hostname ?? 'x'}`, foreign: 'empty-list' },
  'GET /api/v1/tenants/{tenant}/agents/{agentId}': {},
  'POST /api/v1/tenants/{tenant}/agents/{agentId}/revoke': { body: () => ({ reason: 'test' }) },
  'POST /api/v1/tenants/{tenant}/agents/{agentId}/commands': { body: () => ({ action: 'ping', args: {} }) },
  'GET /api/v1/tenants/{tenant}/commands': { query: (i) => `agentId=${i.agentId}`, foreign: 'empty-list' },
  'GET /api/v1/tenants/{tenant}/commands/{commandId}': {},
  'GET /api/v1/tenants/{tenant}/alerts': { query: (i) => `agentId=${i.agentId}`, foreign: 'empty-list' },
  'GET /api/v1/tenants/{tenant}/alerts/{alertId}': {},
  'POST /api/v1/tenants/{tenant}/alerts/{alertId}/ack': {},
  'POST /api/v1/tenants/{tenant}/alerts/{alertId}/resolve': { body: () => ({ reason: 'test' }) },
  'GET /api/v1/tenants/{tenant}/incidents': { query: () => 'status=open', foreign: 'none' },
  'GET /api/v1/tenants/{tenant}/incidents/{incidentId}': {},
  'POST /api/v1/tenants/{tenant}/incidents': { body: (i) => ({ title: 'x', severity: 'low', alertIds: [i.spareAlertId] }), foreign: 'not-found' },
  'PATCH /api/v1/tenants/{tenant}/incidents/{incidentId}': { body: () => ({ status: 'investigating', assignee: 'mallory' }) },
  'POST /api/v1/tenants/{tenant}/incidents/{incidentId}/alerts': { body: (i) => ({ alertIds: [i.spareAlertId] }) },
  'POST /api/v1/tenants/{tenant}/incidents/{incidentId}/close': { body: () => ({ reason: 'test' }) },
  'GET /api/v1/tenants/{tenant}/findings': { query: (i) => `agentId=${i.agentId}`, foreign: 'empty-list' },
  'GET /api/v1/tenants/{tenant}/findings/{findingId}': {},
  'PATCH /api/v1/tenants/{tenant}/findings/{findingId}': { body: () => ({ state: 'false-positive', reason: 'test' }) },
  'GET /api/v1/tenants/{tenant}/scans': { query: (i) => `agentId=${i.agentId}`, foreign: 'empty-list' },
  'GET /api/v1/tenants/{tenant}/scans/{scanId}': {},
  'GET /api/v1/tenants/{tenant}/evidence': { query: (i) => `agentId=${i.agentId}`, foreign: 'empty-list' },
  'GET /api/v1/tenants/{tenant}/evidence/{evidenceId}': {},
  'POST /api/v1/tenants/{tenant}/evidence/{evidenceId}/transfer': { body: () => ({ to: 'mallory' }) },
  'POST /api/v1/tenants/{tenant}/evidence/{evidenceId}/seal': { body: () => ({ note: 'test' }) },
  'GET /api/v1/tenants/{tenant}/audit': { query: (i) => `actorId=${i.agentId}`, foreign: 'empty-list' },
  'GET /api/v1/tenants/{tenant}/audit/{entryId}': {},
  'GET /api/v1/tenants/{tenant}/ledger': { foreign: 'none' },
  'GET /api/v1/tenants/{tenant}/audit/export': { query: () => 'format=jsonl', foreign: 'none' },
  'GET /api/v1/tenants/{tenant}/audit/refusals': { query: () => 'limit=10', foreign: 'none' },
  'GET /api/v1/tenants/{tenant}/access': { foreign: 'none' },
  // User ids are the install's, not a customer's: naming another customer's user is a grant to a
  // person (the admin sees every user), not a reach into that customer. A customer admin who
  // cannot see the user gets 404: test/people/access.test.ts.
  'PUT /api/v1/tenants/{tenant}/access': { body: (i) => ({ userId: i.userId, roles: ['customer-analyst'] }), foreign: 'none' },
  'GET /api/v1/tenants/{tenant}/approvals': { query: () => 'status=pending', foreign: 'none' },
  'GET /api/v1/tenants/{tenant}/approvals/{approvalId}': {},
  'POST /api/v1/tenants/{tenant}/approvals/{approvalId}/approve': {},
  'POST /api/v1/tenants/{tenant}/approvals/{approvalId}/reject': { body: () => ({ reason: 'test' }) },
  'GET /api/v1/tenants/{tenant}/policy': { foreign: 'none' },
  'PUT /api/v1/tenants/{tenant}/policy': { body: () => ({ approvalExpiryMinutes: 30 }), foreign: 'none' },
};
