import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createPublicKey } from 'node:crypto';
import { keyRecordSignedText } from '../../src/ledger/format.ts';
import { Keyring, keyIdOf, privateKeyFromSeed, publicKeyOfRecord, rawPublicKey, signText, verifyText } from '../../src/ledger/keys.ts';
import { rejects } from '../helpers/assert.ts';
import { tempDir } from '../helpers/nats.ts';
import { runCli } from '../helpers/proc.ts';

const test = suite('ledger crypto: Ed25519 wrapper and keyring');

// RFC 8032 section 7.1, tests 1, 2, 3 and SHA(abc).
const VECTORS = [
  {
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    pub: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    msg: '',
    sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    pub: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    msg: '72',
    sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    seed: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    pub: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    msg: 'af82',
    sig: '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
  {
    seed: '833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42',
    pub: 'ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf',
    msg: 'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
    sig: 'dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704',
  },
];

test('RFC 8032 test vectors: public key, signature, verification, and a flipped bit fails', () => {
  for (const v of VECTORS) {
    const key = privateKeyFromSeed(Buffer.from(v.seed, 'hex'));
    assert.is(rawPublicKey(key).toString('hex'), v.pub);
    const msg = Buffer.from(v.msg, 'hex');
    const sig = signText(key, msg);
    assert.is(Buffer.from(sig, 'base64').toString('hex'), v.sig);
    const pub = createPublicKey(key);
    assert.ok(verifyText(pub, msg, sig));
    const bad = Buffer.from(v.sig, 'hex');
    bad[10]! ^= 1;
    assert.not.ok(verifyText(pub, msg, bad.toString('base64')));
    assert.not.ok(verifyText(pub, Buffer.concat([msg, Buffer.from([0])]), sig));
    assert.not.ok(verifyText(pub, msg, 'not base64 of 64 bytes'));
  }
});

test('the key id is what openssl computes from the PEM (first 16 hex of SHA-256 over the DER key)', async () => {
  const dir = await tempDir();
  try {
    const k = await Keyring.open(join(dir.path, 'keys'), { create: true });
    const pem = k.records[0]!.publicKey;
    const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], { input: pem });
    const sum = execFileSync('sha256sum', { input: der }).toString().slice(0, 16);
    assert.is(k.keyId, sum);
    assert.is(keyIdOf(createPublicKey(pem)), sum);
  } finally {
    await dir.cleanup();
  }
});

test('keyring: created 0700/0600, reopened with the same key, rotation endorsed by the old key', async () => {
  const dir = await tempDir();
  try {
    const keysDir = join(dir.path, 'keys');
    await rejects(Keyring.open(keysDir), 'STK_ERR_LEDGER_KEY');
    const k = await Keyring.open(keysDir, { create: true });
    assert.is((await stat(keysDir)).mode & 0o777, 0o700);
    assert.is((await stat(join(keysDir, `${k.keyId}.key`))).mode & 0o777, 0o600);
    const first = k.keyId;
    const again = await Keyring.open(keysDir);
    assert.is(again.keyId, first);
    const sig = again.sign('hello');
    assert.ok(verifyText(k.publicKey(first)!, 'hello', sig));
    const r = await again.rotate();
    assert.is.not(r.keyId, first);
    assert.is(r.prevKeyId, first);
    assert.ok(verifyText(publicKeyOfRecord(k.records[0]!)!, keyRecordSignedText(r), r.sig), 'endorsed by the old key');
    const reopened = await Keyring.open(keysDir);
    assert.is(reopened.keyId, r.keyId);
    assert.ok(reopened.knows(first));
  } finally {
    await dir.cleanup();
  }
});

test('stockade ledger rotate-key: a new key endorsed by the old, refused where there is no keyring', async () => {
  const dir = await tempDir();
  try {
    const keysDir = join(dir.path, 'keys');
    const missing = runCli(['ledger', 'rotate-key', '--key-dir', keysDir]);
    assert.is(await missing.exited, 1);
    assert.ok(
      missing.lines.some((l) => l.includes('STK_ERR_LEDGER_KEY')),
      missing.lines.join('\n'),
    );
    const first = (await Keyring.open(keysDir, { create: true })).keyId;
    const p = runCli(['ledger', 'rotate-key', '--key-dir', keysDir]);
    assert.is(await p.exited, 0, p.lines.join('\n'));
    const k = await Keyring.open(keysDir);
    assert.equal(
      k.records.map((r) => [r.keyId, r.prevKeyId]),
      [
        [first, null],
        [k.keyId, first],
      ],
    );
    assert.ok(
      p.lines.some((l) => l.startsWith(`new ledger key ${k.keyId} (endorsed by ${first})`)),
      p.lines.join('\n'),
    );
  } finally {
    await dir.cleanup();
  }
});

test.run();
