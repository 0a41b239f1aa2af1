import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as x509 from '../../src/pki/x509.ts';
import { InstallCa, verifyCsr, createAgentKeyAndCsr, certificateFacts, AGENT_CERT_DAYS } from '../../src/pki/mod.ts';
import { tempDir } from '../helpers/nats.ts';
import { throws } from '../helpers/assert.ts';

const test = suite('install CA');

function openssl(args: string[]): { ok: boolean; out: string } {
  try {
    return { ok: true, out: execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString() };
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer };
    return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

test('created on first use with its key mode 0600, and the same CA on every later open', async () => {
  const dir = await tempDir();
  try {
    const pki = join(dir.path, 'pki');
    const [a, b] = await Promise.all([InstallCa.open(pki), InstallCa.open(pki)]);
    assert.is(a.certificatePem, b.certificatePem, 'two processes starting together agree on one CA');
    assert.is((await stat(join(pki, 'ca.key'))).mode & 0o777, 0o600);
    assert.is((await stat(pki)).mode & 0o777, 0o700);
    const again = await InstallCa.open(pki);
    assert.is(again.certificatePem, a.certificatePem);
    const ca = new x509.X509Certificate(a.certificatePem);
    assert.ok(await ca.verify({ signatureOnly: true }));
    const bc = ca.getExtension(x509.BasicConstraintsExtension)!;
    assert.ok(bc.ca);
  } finally {
    await dir.cleanup();
  }
});

test('an agent certificate: CN = the chosen agent id, client-auth only, 30 days, verified by openssl against the CA', async () => {
  const dir = await tempDir();
  try {
    const ca = await InstallCa.open(join(dir.path, 'pki'));
    const { csrPem } = await createAgentKeyAndCsr('ec-P-256', 'CN=i-want-to-be-admin');
    const csr = verifyCsr(csrPem);
    assert.is(csr.keyType, 'ec-P-256');
    const now = new Date();
    const issued = ca.issueAgentCertificate({ spki: csr.spki, agentId: 'agent_123', tenant: 'acme', now });
    const facts = certificateFacts(issued.pem);
    assert.is(facts.commonName, 'agent_123', 'the subject the CSR asked for is ignored');
    assert.is(facts.serial, issued.serial);
    assert.is(Math.round((issued.notAfter.getTime() - now.getTime()) / 86_400_000), AGENT_CERT_DAYS);
    const cert = new x509.X509Certificate(issued.pem);
    assert.equal([...cert.getExtension(x509.ExtendedKeyUsageExtension)!.usages].map(String), [String(x509.ExtendedKeyUsage.clientAuth)]);
    assert.not.ok(cert.getExtension(x509.BasicConstraintsExtension)!.ca);
    assert.ok(await cert.verify({ publicKey: ca.certificate.publicKey, date: now }));

    await writeFile(join(dir.path, 'ca.crt'), ca.certificatePem);
    await writeFile(join(dir.path, 'agent.crt'), issued.pem);
    const client = openssl(['verify', '-CAfile', join(dir.path, 'ca.crt'), '-purpose', 'sslclient', join(dir.path, 'agent.crt')]);
    assert.ok(client.ok, client.out);
    const server = openssl(['verify', '-CAfile', join(dir.path, 'ca.crt'), '-purpose', 'sslserver', join(dir.path, 'agent.crt')]);
    assert.not.ok(server.ok, 'an agent certificate must not serve TLS');
    const text = openssl(['x509', '-in', join(dir.path, 'agent.crt'), '-noout', '-text']).out;
    assert.match(text, /TLS Web Client Authentication/);
    assert.match(text, /CA:FALSE/);
  } finally {
    await dir.cleanup();
  }
});

test('accepted key types: P-256, P-384, Ed25519, RSA 2048; the server certificate is for serverAuth', async () => {
  const dir = await tempDir();
  try {
    const ca = await InstallCa.open(join(dir.path, 'pki'));
    for (const [type, expected] of [
      ['ec-P-384', 'ec-P-384'],
      ['ed25519', 'ed25519'],
      [{ rsaBits: 2048 }, 'rsa-2048'],
    ] as const) {
      const csr = verifyCsr((await createAgentKeyAndCsr(type)).csrPem);
      assert.is(csr.keyType, expected);
      assert.ok(certificateFacts(ca.issueAgentCertificate({ spki: csr.spki, agentId: 'a1', tenant: 't1', now: new Date() }).pem));
    }
    const server = await ca.issueServerCertificate(['127.0.0.1']);
    await writeFile(join(dir.path, 'ca.crt'), ca.certificatePem);
    await writeFile(join(dir.path, 'server.crt'), server.certPem);
    const r = openssl(['verify', '-CAfile', join(dir.path, 'ca.crt'), '-purpose', 'sslserver', join(dir.path, 'server.crt')]);
    assert.ok(r.ok, r.out);
  } finally {
    await dir.cleanup();
  }
});

test('weak or unknown keys are refused: RSA 1024, P-521 (openssl-made), DSA', async () => {
  const dir = await tempDir();
  try {
    throws(() => verifyCsr(awaitCsr(dir.path, ['-newkey', 'rsa:1024'])), 'STK_ERR_PKI_KEY_REFUSED');
    throws(() => verifyCsr(awaitCsr(dir.path, ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-521'])), 'STK_ERR_PKI_KEY_REFUSED');
    openssl(['dsaparam', '-out', join(dir.path, 'dsa.param'), '2048']);
    throws(() => verifyCsr(awaitCsr(dir.path, ['-newkey', `dsa:${join(dir.path, 'dsa.param')}`])), 'STK_ERR_PKI_KEY_REFUSED');
    // And an openssl-made P-256 CSR is accepted: the CA does not depend on our own CSR encoder.
    assert.is(verifyCsr(awaitCsr(dir.path, ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'])).keyType, 'ec-P-256');
  } finally {
    await dir.cleanup();
  }
});

test('no proof of possession or no CSR at all: refused with STK_ERR_PKI_CSR_INVALID', async () => {
  const { csrPem } = await createAgentKeyAndCsr('ec-P-256', 'CN=agent-name');
  // Change one byte inside the signed part: the signature no longer matches the key it carries.
  const der = Buffer.from(x509.PemConverter.decodeFirst(csrPem));
  const at = der.indexOf(Buffer.from('agent-name'));
  der[at] = 'b'.charCodeAt(0);
  throws(() => verifyCsr(x509.PemConverter.encode(der, 'CERTIFICATE REQUEST')), 'STK_ERR_PKI_CSR_INVALID');
  throws(() => verifyCsr('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----'), 'STK_ERR_PKI_CSR_INVALID');
  throws(() => verifyCsr('hello'), 'STK_ERR_PKI_CSR_INVALID');
  throws(() => verifyCsr(csrPem + 'x'.repeat(10_000)), 'STK_ERR_PKI_CSR_INVALID');
});

function awaitCsr(dir: string, keyArgs: string[]): string {
  const r = openssl(['req', '-new', ...keyArgs, '-nodes', '-keyout', join(dir, 'k.pem'), '-subj', '/CN=x', '-out', join(dir, 'r.csr')]);
  assert.ok(r.ok, r.out);
  return execFileSync('cat', [join(dir, 'r.csr')]).toString();
}

test.run();
