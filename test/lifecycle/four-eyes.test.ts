import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ERASED_TEXT } from '../../src/privacy/mod.ts';
import { enrollAgent, freshTenant } from '../helpers/events.ts';
import { type Person, person, settled } from '../people/helpers.ts';
import { lifecycleFixture, type LifecycleFixture } from './fixture.ts';

/**
 * Erasure and offboarding under the customer's four-eyes policy (gates `erase-subject` and
 * `delete-tenant`): the request names the subject sealed, the requester never decides it, a
 * second MSP admin's approval issues it.
 */
const test = suite('lifecycle: four eyes on erasure and offboarding');
let f: LifecycleFixture;
let tenant: string;
let agentId: string;
let alice: Person;
let bob: Person;
let analyst: Person;

test.before(async () => {
  f = await lifecycleFixture();
  tenant = freshTenant('fe');
  await f.tenant(tenant, ['edr']);
  agentId = (await enrollAgent(f.stk.runtime.log, tenant, 'laptop-of-carol')).agentId;
  alice = await person(f, { install: ['msp-admin'] });
  bob = await person(f, { install: ['msp-admin'] });
  analyst = await person(f, { tenants: { [tenant]: ['msp-analyst'] } });
  const p = await f.call('PUT', `/api/v1/tenants/${tenant}/policy`, { body: { fourEyes: ['erase-subject', 'delete-tenant'] } });
  assert.is(p.status, 200, JSON.stringify(p.body));
  await settled(f);
});
test.after(async () => {
  await f?.cleanup();
});

test('an erasure becomes a request; the analyst may not ask, the requester may not approve; a second admin approves and the keys go', async () => {
  const notAllowed = await f.call('POST', `/api/v1/tenants/${tenant}/erasures`, { token: analyst.token, body: { subject: `agent:${agentId}` } });
  assert.is(notAllowed.status, 403);
  assert.is(notAllowed.body.error.code, 'STK_ERR_FORBIDDEN');
  const req = await f.call('POST', `/api/v1/tenants/${tenant}/erasures`, { token: alice.token, body: { subject: `agent:${agentId}`, reference: 'DSR-9' } });
  assert.is(req.status, 202, JSON.stringify(req.body));
  assert.is(req.body.gate, 'erase-subject');
  const t = req.body.consistencyToken;
  assert.is((await f.call('GET', `/api/v1/tenants/${tenant}/agents/${agentId}?waitFor=${t}`)).body.hostname, 'laptop-of-carol', 'nothing erased yet');
  const self = await f.call('POST', `/api/v1/tenants/${tenant}/approvals/${req.body.approvalId}/approve`, { token: alice.token });
  assert.is(self.body.error.code, 'STK_ERR_APPROVAL_SELF');
  const ok = await f.call('POST', `/api/v1/tenants/${tenant}/approvals/${req.body.approvalId}/approve`, { token: bob.token });
  assert.is(ok.status, 200, JSON.stringify(ok.body));
  assert.is(ok.body.result.outcome, 'issued');
  const agent = await f.call('GET', `/api/v1/tenants/${tenant}/agents/${agentId}?waitFor=${ok.body.consistencyToken}`);
  assert.is(agent.body.hostname, ERASED_TEXT);
  // The request itself named the subject under the subject's own key: erased with it.
  const approval = await f.call('GET', `/api/v1/tenants/${tenant}/approvals/${req.body.approvalId}`);
  assert.is(approval.body.action.subject, ERASED_TEXT);
  assert.is(approval.body.action.kind, 'erase');
});

test('offboarding becomes a request too, and happens once a second admin approves it', async () => {
  const req = await f.call('DELETE', `/api/v1/tenants/${tenant}`, { token: alice.token, body: { confirm: tenant } });
  assert.is(req.status, 202, JSON.stringify(req.body));
  assert.is(req.body.gate, 'delete-tenant');
  assert.is((await f.call('GET', `/api/v1/tenants/${tenant}?waitFor=${req.body.consistencyToken}`)).status, 200, 'still there');
  const ok = await f.call('POST', `/api/v1/tenants/${tenant}/approvals/${req.body.approvalId}/approve`, { token: bob.token });
  assert.is(ok.status, 200, JSON.stringify(ok.body));
  assert.is(ok.body.result.outcome, 'issued');
  await settled(f);
  assert.is((await f.call('GET', `/api/v1/tenants/${tenant}`)).status, 404);
  const reuse = await f.call('POST', '/api/v1/tenants', { body: { id: tenant, name: 'again' } });
  assert.is(reuse.body.error.code, 'STK_ERR_TENANT_ID_RESERVED');
});

test.run();
