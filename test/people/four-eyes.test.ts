import { randomUUID } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { approvalDecider } from '../../commands/approvals/decider.ts';
import { execute } from '../../src/domain/execute.ts';
import { newId } from '../../src/ids.ts';
import { API_PLUGINS } from '../../src/roles.ts';
import { apiFixture, type ApiFixture } from '../helpers/api.ts';
import { enrollAgent, freshTenant } from '../helpers/events.ts';
import { customRuleYaml } from '../isolation/world.ts';
import { type Person, person, settled, userToken } from './helpers.ts';

/** Four eyes on a customer: the request is an event, a second person decides, only then is the action issued. */
const test = suite('four eyes: request, second person, expiry, audit');

let f: ApiFixture;
let tenant: string;
let agentId: string;
let requester: Person;
let second: Person;
let analyst: Person;

test.before(async () => {
  f = await apiFixture({ plugins: API_PLUGINS });
  tenant = freshTenant('fe');
  await f.tenant(tenant, ['edr']);
  agentId = (await enrollAgent(f.stk.runtime.log, tenant, 'fe-host')).agentId;
  requester = await person(f, { tenants: { [tenant]: ['msp-analyst'] } });
  second = await person(f, { tenants: { [tenant]: ['msp-analyst'] } });
  analyst = await person(f, { tenants: { [tenant]: ['customer-analyst'] } });
  const p = await f.call('PUT', `/api/v1/tenants/${tenant}/policy`, { body: { fourEyes: ['isolate-host', 'suspend-tenant', 'role-change'] } });
  assert.is(p.status, 200);
  await settled(f);
});
test.after(async () => {
  await f?.cleanup();
});

const last = () => f.stk.runtime.log.lastPosition();

test('a gated action becomes a request; the requester cannot approve it through any token of theirs; a second person can, and then it is issued', async () => {
  const req = await f.call('POST', `/api/v1/tenants/${tenant}/agents/${agentId}/commands`, { token: requester.token, body: { action: 'isolate-host' } });
  assert.is(req.status, 202, JSON.stringify(req.body));
  assert.is(req.body.status, 'pending');
  const id = req.body.approvalId as string;
  const commands = await f.call('GET', `/api/v1/tenants/${tenant}/commands?waitFor=${req.body.consistencyToken}`, { token: second.token });
  assert.equal(commands.body.items, [], 'nothing is issued before the approval');

  const self = await f.call('POST', `/api/v1/tenants/${tenant}/approvals/${id}/approve`, { token: requester.token });
  assert.is(self.status, 403);
  assert.is(self.body.error.code, 'STK_ERR_APPROVAL_SELF');
  const secondToken = await userToken(f, requester.userId);
  const before = await last();
  const selfAgain = await f.call('POST', `/api/v1/tenants/${tenant}/approvals/${id}/approve`, { token: secondToken.token });
  assert.is(selfAgain.body.error.code, 'STK_ERR_APPROVAL_SELF', 'another token of the requester is still the requester');
  const selfReject = await f.call('POST', `/api/v1/tenants/${tenant}/approvals/${id}/reject`, { token: requester.token, body: { reason: 'x' } });
  assert.is(selfReject.body.error.code, 'STK_ERR_APPROVAL_SELF');
  // Someone without the right to the action itself cannot approve it either.
  const weak = await f.call('POST', `/api/v1/tenants/${tenant}/approvals/${id}/approve`, { token: analyst.token });
  assert.is(weak.status, 403);
  assert.is(weak.body.error.code, 'STK_ERR_FORBIDDEN');
  // Nor can the admin key: it is no person.
  const key = await f.call('POST', `/api/v1/tenants/${tenant}/approvals/${id}/approve`);
  assert.is(key.status, 403);
  assert.is(key.body.error.code, 'STK_ERR_FORBIDDEN');
  assert.is((await f.stk.runtime.log.readTenant(tenant, before)).length, 0, 'refused decisions wrote nothing');

  const ok = await f.call('POST', `/api/v1/tenants/${tenant}/approvals/${id}/approve`, { token: second.token });
  assert.is(ok.status, 200, JSON.stringify(ok.body));
  assert.is(ok.body.status, 'executed');
  assert.is(ok.body.result.outcome, 'issued');
  assert.is(ok.body.decidedBy.userId, second.userId);
  const cmd = await f.call('GET', `/api/v1/tenants/${tenant}/commands/${ok.body.result.ref}?waitFor=${ok.body.consistencyToken}`, { token: second.token });
  assert.is(cmd.status, 200);
  assert.is(cmd.body.action, 'isolate-host');
  const again = await f.call('POST', `/api/v1/tenants/${tenant}/approvals/${id}/approve`, { token: second.token });
  assert.is(again.status, 409, 'decided once');

  // The audit trail names both people and how they came in.
  const audit = await f.call('GET', `/api/v1/tenants/${tenant}/audit?aggregateType=approval&waitFor=${ok.body.consistencyToken}`);
  const actions = audit.body.items.map((x: any) => `${x.action} ${x.actorId} ${x.via}`);
  assert.ok(actions.includes(`approval.requested user:${requester.userId} token:${requester.tokenId}`), actions.join('\n'));
  assert.ok(actions.includes(`approval.approved user:${second.userId} token:${second.tokenId}`), actions.join('\n'));
});

test('an expired request cannot be approved; a rejection issues nothing; suspension and role changes are gated too', async () => {
  const id = newId();
  await execute(
    f.stk.runtime.log,
    { tenant, id },
    approvalDecider,
    {
      kind: 'request',
      request: {
        gate: 'isolate-host',
        action: { kind: 'dispatch', agentId, action: 'isolate-host', args: {} },
        requester: { actorId: `user:${requester.userId}`, userId: requester.userId },
        expiresAt: new Date(Date.now() - 1000).toISOString(),
      },
    },
    { actor: { kind: 'operator', id: `user:${requester.userId}` }, known: 'new' },
  );
  await settled(f);
  const before = await last();
  const late = await f.call('POST', `/api/v1/tenants/${tenant}/approvals/${id}/approve`, { token: second.token });
  assert.is(late.status, 409);
  assert.is(late.body.error.code, 'STK_ERR_APPROVAL_EXPIRED');
  assert.is(await last(), before);

  const susp = await f.call('POST', `/api/v1/tenants/${tenant}/suspend`, { body: { reason: 'unpaid' } });
  assert.is(susp.status, 202, JSON.stringify(susp.body));
  const rej = await f.call('POST', `/api/v1/tenants/${tenant}/approvals/${susp.body.approvalId}/reject`, { token: second.token, body: { reason: 'not yet' } });
  assert.is(rej.status, 200);
  assert.is(rej.body.status, 'rejected');
  const t = await f.call('GET', `/api/v1/tenants/${tenant}?waitFor=${rej.body.consistencyToken}`);
  assert.is(t.body.suspended, false);

  // Role changes: customer admins ask and decide; the role is given only on approval.
  const ca1 = await f.call('PUT', `/api/v1/tenants/${tenant}/access`, { body: { userId: requester.userId, roles: ['msp-analyst', 'customer-admin'] } });
  const ca1ok = await f.call('POST', `/api/v1/tenants/${tenant}/approvals/${ca1.body.approvalId}/approve`, { token: second.token });
  assert.is(ca1ok.status, 403, 'an MSP analyst cannot approve role changes (no access.manage)');
  const ownerOfInstall = await person(f, { install: ['msp-admin'] });
  const done = await f.call('POST', `/api/v1/tenants/${tenant}/approvals/${ca1.body.approvalId}/approve`, { token: ownerOfInstall.token });
  assert.is(done.body.result.outcome, 'issued', JSON.stringify(done.body));
  await settled(f);
  const grant = await f.call('PUT', `/api/v1/tenants/${tenant}/access`, {
    token: requester.token,
    body: { userId: analyst.userId, roles: ['customer-analyst', 'customer-admin'] },
  });
  assert.is(grant.status, 202, JSON.stringify(grant.body));
  const approved = await f.call('POST', `/api/v1/tenants/${tenant}/approvals/${grant.body.approvalId}/approve`, { token: ownerOfInstall.token });
  assert.is(approved.body.result.outcome, 'issued');
  const access = await f.call('GET', `/api/v1/tenants/${tenant}/access?waitFor=${approved.body.consistencyToken}`);
  assert.equal(access.body.items.find((x: any) => x.userId === analyst.userId).roles, ['customer-admin', 'customer-analyst']);
});

test('a custom detection rule goes live only once a second person approves it; a bad rule is refused before it is asked for', async () => {
  const p = await f.call('PUT', `/api/v1/tenants/${tenant}/policy`, {
    body: { fourEyes: ['isolate-host', 'suspend-tenant', 'role-change', 'detection-rule-live'] },
  });
  assert.is(p.status, 200);
  await settled(f);
  const ruleId = randomUUID();
  const before = await last();
  const bad = await f.call('POST', `/api/v1/tenants/${tenant}/detection/custom-rules`, { token: requester.token, body: { name: 'bad.yml', yaml: 'title: [' } });
  assert.is(bad.status, 400, 'a rule that would be refused is refused now, not after a second person approved it');
  assert.is(await last(), before, 'and nothing was written for it');

  const up = await f.call('POST', `/api/v1/tenants/${tenant}/detection/custom-rules`, {
    token: requester.token,
    body: { name: 'probe.yml', yaml: customRuleYaml(ruleId) },
  });
  assert.is(up.status, 202, JSON.stringify(up.body));
  assert.is(up.body.gate, 'detection-rule-live');
  const listed = await f.call('GET', `/api/v1/tenants/${tenant}/detection/rules?custom=true&waitFor=${up.body.consistencyToken}`, { token: second.token });
  assert.not.ok(
    listed.body.items.some((r: { id: string }) => r.id === ruleId),
    'the rule does not run before the approval',
  );
  const self = await f.call('POST', `/api/v1/tenants/${tenant}/approvals/${up.body.approvalId}/approve`, { token: requester.token });
  assert.is(self.body.error.code, 'STK_ERR_APPROVAL_SELF');
  const ok = await f.call('POST', `/api/v1/tenants/${tenant}/approvals/${up.body.approvalId}/approve`, { token: second.token });
  assert.is(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.result, { outcome: 'issued', ref: ruleId });
  const rule = await f.call('GET', `/api/v1/tenants/${tenant}/detection/rules/${ruleId}?waitFor=${ok.body.consistencyToken}`, { token: second.token });
  assert.is(rule.status, 200, JSON.stringify(rule.body));
  assert.is(rule.body.custom, true);
  assert.is(rule.body.name, 'probe.yml');
});

test('nobody grants more than they hold: a customer admin cannot make an MSP analyst or see users of other customers', async () => {
  const other = freshTenant('fe-other');
  await f.tenant(other);
  const admin = await person(f, { tenants: { [other]: ['customer-admin'] } });
  const third = freshTenant('fe-third');
  await f.tenant(third);
  const stranger = await person(f, { tenants: { [third]: ['customer-analyst'] } });
  const colleague = await person(f, { tenants: { [other]: ['customer-analyst'] } });
  const up = await f.call('PUT', `/api/v1/tenants/${other}/access`, { token: admin.token, body: { userId: colleague.userId, roles: ['msp-analyst'] } });
  assert.is(up.status, 403);
  const hidden = await f.call('PUT', `/api/v1/tenants/${other}/access`, { token: admin.token, body: { userId: stranger.userId, roles: ['customer-analyst'] } });
  const missing = await f.call('PUT', `/api/v1/tenants/${other}/access`, { token: admin.token, body: { userId: 'no-such-user', roles: ['customer-analyst'] } });
  assert.is(hidden.status, 404);
  assert.equal({ ...hidden.body.error, requestId: 0 }, { ...missing.body.error, requestId: 0 });
  const fine = await f.call('PUT', `/api/v1/tenants/${other}/access`, { token: admin.token, body: { userId: colleague.userId, roles: ['customer-admin'] } });
  assert.is(fine.status, 200, JSON.stringify(fine.body));
});

test.run();
