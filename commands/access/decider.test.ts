import { suite } from 'uvu';
import { ev, spec } from '../../test/helpers/spec.ts';
import { accessDecider } from './decider.ts';
import { AccessEvents as E } from './events.ts';

const test = suite('access decider (role grants)');

test('set grants the new roles and takes away only those of its own source', () => {
  spec(accessDecider)
    .given([])
    .when({ kind: 'set', roles: ['customer-analyst'], source: 'manual', scope: 'tenant' })
    .then([E.granted], [{ role: 'customer-analyst', source: 'manual' }]);
  const both = [ev(E.granted, { role: 'customer-analyst', source: 'manual' }), ev(E.granted, { role: 'msp-analyst', source: 'sso' })];
  // An SSO sign-in with no groups takes the SSO role away and leaves the hand-given one.
  spec(accessDecider)
    .given(both)
    .when({ kind: 'set', roles: [], source: 'sso', scope: 'tenant' })
    .then([E.revoked], [{ role: 'msp-analyst', source: 'sso' }]);
  spec(accessDecider)
    .given(both)
    .when({ kind: 'set', roles: ['customer-analyst'], source: 'manual', scope: 'tenant' })
    .then([]);
});

test('roles fit their scope: no MSP owner on one customer, no customer admin install-wide', () => {
  spec(accessDecider)
    .given([])
    .when({ kind: 'set', roles: ['msp-owner'], source: 'manual', scope: 'tenant' })
    .refused('STK_ERR_VALIDATION');
  spec(accessDecider)
    .given([])
    .when({ kind: 'set', roles: ['customer-admin'], source: 'manual', scope: 'install' })
    .refused('STK_ERR_VALIDATION');
  spec(accessDecider)
    .given([])
    .when({ kind: 'set', roles: ['auditor'], source: 'manual', scope: 'install' })
    .then([E.granted]);
  spec(accessDecider)
    .given([])
    .when({ kind: 'set', roles: ['nope' as never], source: 'manual', scope: 'install' })
    .refused('STK_ERR_VALIDATION');
});

test.run();
