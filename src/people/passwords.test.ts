import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { throws } from '../../test/helpers/assert.ts';
import { checkPasswordPolicy, hashPassword, verifyPassword } from './passwords.ts';
import { newRecoveryCodes, recoveryIndex, totpCode, totpStep } from './totp.ts';

const test = suite('passwords, TOTP and recovery codes');
const user = { name: 'Ada Lovelace', email: 'ada.l@example.test' };

test('the policy refuses short, common, repetitive, sequential and personal passwords, with the reason', () => {
  for (const [pw, reason] of [
    ['short1!', 'too-short'],
    ['Password2024!', 'common'],
    ['aaaaaaaaaaaaaa', 'repetitive'],
    ['abcdefghijklmn', 'sequence'],
    ['lovelace-rules-2024', 'personal'],
    ['my ada.l password x', 'personal'],
  ] as const) {
    const err = throws(() => checkPasswordPolicy(pw, user), 'STK_ERR_PASSWORD_WEAK');
    assert.is(err.data.reason, reason, pw);
  }
  checkPasswordPolicy('violet-kestrel-harbour-42', user);
});

test('Argon2id hashes verify the right password only; an unknown user costs a verification and fails', async () => {
  const h = await hashPassword('violet-kestrel-harbour-42');
  assert.match(h, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  assert.ok(await verifyPassword(h, 'violet-kestrel-harbour-42'));
  assert.not.ok(await verifyPassword(h, 'violet-kestrel-harbour-43'));
  assert.not.ok(await verifyPassword(null, 'violet-kestrel-harbour-42'));
});

test('TOTP (RFC 6238 vector) gives the step a code belongs to; recovery codes match once each by index', () => {
  // RFC 6238 appendix B, SHA-1 secret "12345678901234567890", T = 59 s → 94287082 (8 digits); 6 digits → 287082.
  const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
  assert.is(totpCode(secret, 59_000), '287082');
  assert.is(totpStep(secret, '287082', 59_000), 1);
  assert.is(totpStep(secret, '287082', 89_000), 1, 'the previous step is accepted within the window');
  assert.is(totpStep(secret, '287082', 200_000), null);
  assert.is(totpStep(secret, 'abcdef', 59_000), null);
  const { codes, set } = newRecoveryCodes();
  assert.is(codes.length, 10);
  assert.is(recoveryIndex(set, codes[4]!), 4);
  assert.is(recoveryIndex(set, codes[4]!.toUpperCase()), 4);
  assert.is(recoveryIndex(set, 'aaaaa-bbbbb-ccccc-ddddd'), -1);
});

test.run();
