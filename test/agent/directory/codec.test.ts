import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  adDataCode,
  dateToFiletime,
  decodeGroupType,
  decodeSid,
  decodeUac,
  encodeSid,
  filetimeToIso,
  generalizedTimeToIso,
  parseRange,
  sidDomain,
  sidRid,
} from '../../../src/agent/directory/codec.ts';

const test = suite('directory attribute decoding');

test('FILETIME converts to ISO time; 0, never and junk are null', () => {
  assert.is(filetimeToIso('116444736000000000'), '1970-01-01T00:00:00.000Z');
  assert.is(filetimeToIso('130000000000000000'), '2012-12-14T23:06:40.000Z');
  // 100 ns resolution below a millisecond is dropped, not rounded into the next one.
  assert.is(filetimeToIso('116444736000009999'), '1970-01-01T00:00:00.000Z');
  for (const v of ['0', '9223372036854775807', '-1', '', 'abc', '1e18', undefined, null]) assert.is(filetimeToIso(v), null, String(v));
  const d = new Date('2026-03-01T12:34:56.789Z');
  // Computed independently: Python's datetime difference from 1601-01-01 in 100 ns units.
  assert.is(dateToFiletime(d), '134168420967890000');
  assert.is(filetimeToIso(dateToFiletime(d)), d.toISOString());
});

test('binary SIDs decode to the string form Samba prints, and back', () => {
  // An Administrator objectSid as a Samba DC returned it; samba-tool printed the domain SID S-1-5-21-3880021580-2127073348-1757461446.
  const admin = Buffer.from('0105000000000005150000004c6e44e74490c87ec6bbc068f4010000', 'hex');
  assert.is(decodeSid(admin), 'S-1-5-21-3880021580-2127073348-1757461446-500');
  const builtin = Buffer.from('01020000000000052000000020020000', 'hex');
  assert.is(decodeSid(builtin), 'S-1-5-32-544');
  assert.equal(encodeSid('S-1-5-21-3880021580-2127073348-1757461446-500'), admin);
  assert.equal(encodeSid('S-1-5-32-544'), builtin);
  assert.is(decodeSid(encodeSid('S-1-1-0')!), 'S-1-1-0');
  // Wrong revision, truncated, count past the bytes, trailing bytes.
  for (const hex of ['0205000000000005150000004c6e44e7', '010500000000', '0105000000000005150000004c6e44e7', '01020000000000052000000020020000ff']) {
    assert.is(decodeSid(Buffer.from(hex, 'hex')), null, hex);
  }
  for (const s of ['S-1', 'S-1-5-x', 'S-2-5-32', 's-1-5-32-544', 'S-1-5-4294967296', 'S-1-5-32-544 ']) assert.is(encodeSid(s), null, s);
  assert.is(sidRid('S-1-5-21-1-2-3-512'), 512);
  assert.is(sidRid('S-1-5-32-544'), 544);
  assert.is(sidRid('S-1-5-18'), null);
  assert.is(sidDomain('S-1-5-21-1-2-3-512'), 'S-1-5-21-1-2-3');
  assert.is(sidDomain('S-1-5-32-544'), null);
});

test('userAccountControl and groupType decode to their documented names', () => {
  assert.equal(decodeUac(512), ['NORMAL_ACCOUNT']);
  assert.equal(decodeUac(66048), ['NORMAL_ACCOUNT', 'DONT_EXPIRE_PASSWORD']);
  assert.equal(decodeUac(514 | 0x400000), ['ACCOUNTDISABLE', 'NORMAL_ACCOUNT', 'DONT_REQ_PREAUTH']);
  assert.equal(decodeUac(532480), ['SERVER_TRUST_ACCOUNT', 'TRUSTED_FOR_DELEGATION']);
  assert.equal(decodeGroupType(-2147483643), { scope: 'domain-local', security: true });
  assert.equal(decodeGroupType(-2147483646), { scope: 'global', security: true });
  assert.equal(decodeGroupType(-2147483640), { scope: 'universal', security: true });
  assert.equal(decodeGroupType(8), { scope: 'universal', security: false });
});

test('ranged attribute names, GeneralizedTime and AD bind sub-codes parse', () => {
  assert.equal(parseRange('member;range=0-1499'), { attribute: 'member', start: 0, end: 1499 });
  assert.equal(parseRange('member;Range=1500-*'), { attribute: 'member', start: 1500, end: null });
  assert.is(parseRange('member'), null);
  assert.is(parseRange('member;range=a-b'), null);
  assert.is(generalizedTimeToIso('20261130034201.0Z'), '2026-11-30T03:42:01.000Z');
  assert.is(generalizedTimeToIso('20261130034201Z'), '2026-11-30T03:42:01.000Z');
  assert.is(generalizedTimeToIso('20261130034201.25Z'), '2026-11-30T03:42:01.250Z');
  assert.is(generalizedTimeToIso('2026-11-30'), null);
  assert.is(adDataCode('80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 52e, v1db1'), '52e');
  assert.is(adDataCode('00002098: insufficient access'), null);
});

test.run();
