import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { acceptsEmptySecret, tenantDecider } from './decider.ts';
import { TenantEvents as E } from './events.ts';
import { ev, spec } from '../../test/helpers/spec.ts';
import { fold } from '../../src/domain/decider.ts';

const test = suite('tenants decider');
const secret = { lookup: 'L'.repeat(12), hash: 'h'.repeat(64) };
const created = [ev(E.created, { name: 'Acme' }), ev(E.secretSet, secret)];

test('create: a new tenant has its secret hash and no products; twice is refused', () => {
  spec(tenantDecider)
    .given([])
    .when({ kind: 'create', name: 'Acme', secret })
    .then([E.created, E.secretSet], [{ name: 'Acme' }, secret]);
  spec(tenantDecider).given(created).when({ kind: 'create', name: 'Acme', secret }).refused('STK_ERR_TENANT_EXISTS');
  assert.equal(fold(tenantDecider, created).products, []);
});

test('commands on a missing tenant are refused as not found', () => {
  spec(tenantDecider).given([]).when({ kind: 'rename', name: 'x' }).refused('STK_ERR_NOT_FOUND');
  spec(tenantDecider).given([]).when({ kind: 'rotate-secret', secret }).refused('STK_ERR_NOT_FOUND');
});

test('products toggle idempotently; rotation always makes a new secret', () => {
  spec(tenantDecider).given(created).when({ kind: 'set-product', product: 'edr', enabled: true }).then([E.productEnabled]);
  spec(tenantDecider)
    .given([...created, ev(E.productEnabled, { product: 'edr' })])
    .when({ kind: 'set-product', product: 'edr', enabled: true })
    .then([]);
  spec(tenantDecider)
    .given([...created, ev(E.productEnabled, { product: 'edr' })])
    .when({ kind: 'set-product', product: 'edr', enabled: false })
    .then([E.productDisabled]);
  spec(tenantDecider)
    .given(created)
    .when({ kind: 'rotate-secret', secret: { lookup: 'M'.repeat(12), hash: 'g'.repeat(64) } })
    .then([E.secretSet]);
});

test('suspend / resume; open enrollment only for the default tenant, never while suspended', () => {
  spec(tenantDecider).given(created).when({ kind: 'suspend', reason: 'unpaid' }).then([E.suspended]);
  spec(tenantDecider)
    .given([...created, ev(E.suspended, { reason: 'x' })])
    .when({ kind: 'suspend', reason: 'x' })
    .then([]);
  spec(tenantDecider).given(created).when({ kind: 'set-open-enrollment', tenant: 'acme', enabled: true }).refused('STK_ERR_VALIDATION');
  spec(tenantDecider).given(created).when({ kind: 'set-open-enrollment', tenant: 'default', enabled: true }).then([E.openEnrollmentSet]);
  const open = [...created, ev(E.openEnrollmentSet, { enabled: true })];
  assert.ok(acceptsEmptySecret('default', fold(tenantDecider, open)));
  assert.not.ok(acceptsEmptySecret('acme', fold(tenantDecider, open)));
  assert.not.ok(acceptsEmptySecret('default', fold(tenantDecider, created)));
  assert.not.ok(acceptsEmptySecret('default', fold(tenantDecider, [...open, ev(E.suspended, { reason: 'x' })])));
});

test('an offboarded tenant: every command answers not found, and its id can never be created again', () => {
  const deleted = [...created, ev(E.deleted, { agentsRevoked: 2, tokensRevoked: 1, destructionId: 'offboarding' })];
  spec(tenantDecider).given(deleted).when({ kind: 'create', name: 'Another', secret }).refused('STK_ERR_TENANT_ID_RESERVED');
  spec(tenantDecider).given(deleted).when({ kind: 'rename', name: 'x' }).refused('STK_ERR_NOT_FOUND');
  spec(tenantDecider).given(deleted).when({ kind: 'resume' }).refused('STK_ERR_NOT_FOUND');
  spec(tenantDecider)
    .given(deleted)
    .when({ kind: 'delete', deletion: { agentsRevoked: 0, tokensRevoked: 0, destructionId: 'offboarding' } })
    .refused('STK_ERR_NOT_FOUND');
  const s = fold(tenantDecider, deleted);
  assert.equal([s.exists, s.deleted, s.suspended, s.secretLookup], [false, true, true, null]);
});

test('retention per kind: set, unchanged is a no-op, null goes back to the default', () => {
  spec(tenantDecider)
    .given(created)
    .when({ kind: 'set-retention', retention: { kind: 'events', days: 730 } })
    .then([E.retentionSet], [{ kind: 'events', days: 730 }]);
  const set = [...created, ev(E.retentionSet, { kind: 'events', days: 730 })];
  spec(tenantDecider)
    .given(set)
    .when({ kind: 'set-retention', retention: { kind: 'events', days: 730 } })
    .then([]);
  assert.equal(fold(tenantDecider, set).retention, { events: 730 });
  assert.equal(fold(tenantDecider, [...set, ev(E.retentionSet, { kind: 'events', days: null })]).retention, {});
  spec(tenantDecider)
    .given([])
    .when({ kind: 'set-retention', retention: { kind: 'events', days: 1 } })
    .refused('STK_ERR_NOT_FOUND');
});

test.run();
