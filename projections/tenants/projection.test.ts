import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TenantEvents as E } from '../../commands/tenants/events.ts';
import { event, run } from '../testing.ts';
import { tenantsProjection } from './projection.ts';

const test = suite('projection: tenants');
const agg = { type: 'tenant', id: 't' };

test('a rotation replaces the secret lookup, so the old secret finds no tenant', () => {
  const { docs, global } = run(tenantsProjection, [
    event(E.created, agg, { name: 'Acme' }),
    event(E.secretSet, agg, { lookup: 'old', hash: 'h1' }),
    event(E.productEnabled, agg, { product: 'patch' }),
    event(E.productEnabled, agg, { product: 'edr' }),
    event(E.secretSet, agg, { lookup: 'new', hash: 'h2' }),
  ]);
  const t = docs.get('t/tenant/t')!;
  assert.equal(t.products, ['edr', 'patch']);
  assert.is(t.secretHash, 'h2');
  assert.is(global.get('enroll/old'), undefined);
  assert.is(global.get('enroll/new'), 't');
  assert.is(global.get('tenants/t'), 't');
});

test.run();
