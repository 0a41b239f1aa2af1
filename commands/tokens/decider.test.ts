import { suite } from 'uvu';
import { tokenDecider } from './decider.ts';
import { TokenEvents as E } from './events.ts';
import { ev, spec } from '../../test/helpers/spec.ts';

const test = suite('tokens decider');

test('created once, revoked once; a missing token is not found', () => {
  const token = { role: 'auditor' as const, label: '', lookup: 'L'.repeat(12), hash: 'h'.repeat(64) };
  spec(tokenDecider).given([]).when({ kind: 'create', token }).then([E.created], [token]);
  spec(tokenDecider)
    .given([ev(E.created, token)])
    .when({ kind: 'revoke' })
    .then([E.revoked]);
  spec(tokenDecider)
    .given([ev(E.created, token), ev(E.revoked)])
    .when({ kind: 'revoke' })
    .then([]);
  spec(tokenDecider).given([]).when({ kind: 'revoke' }).refused('STK_ERR_NOT_FOUND');
});

test.run();
