import { randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '../../src/pki/x509.ts';

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

/** A test certificate authority made with @peculiar/x509, and server certificates it issues. */
export interface TestCa {
  certPem: string;
  /** A server certificate for `hosts` (names and IP addresses), with its key. */
  issueServer(hosts: string[]): Promise<{ certPem: string; keyPem: string }>;
}

/** A fresh self-signed ECDSA P-256 CA, valid from an hour ago for a day. */
export async function testCa(name = `stockade test CA ${randomBytes(3).toString('hex')}`): Promise<TestCa> {
  const now = Date.now();
  const keys = await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: [{ CN: [name] }],
    keys,
    signingAlgorithm: EC_P256,
    notBefore: new Date(now - 3_600_000),
    notAfter: new Date(now + DAY_MS),
    serialNumber: randomBytes(8).toString('hex'),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    certPem: ca.toString('pem'),
    async issueServer(hosts) {
      const leaf = await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
      const cert = await x509.X509CertificateGenerator.create({
        subject: [{ CN: [hosts[0] ?? 'localhost'] }],
        issuer: ca.subjectName.toString(),
        publicKey: leaf.publicKey,
        signingKey: keys.privateKey,
        signingAlgorithm: EC_P256,
        serialNumber: randomBytes(8).toString('hex'),
        notBefore: new Date(now - 3_600_000),
        notAfter: new Date(now + DAY_MS),
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
          new x509.SubjectAlternativeNameExtension(hosts.map((h) => (isIP(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h }))),
          await x509.AuthorityKeyIdentifierExtension.create(ca, false),
        ],
      });
      const keyPem = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', leaf.privateKey), 'PRIVATE KEY');
      return { certPem: cert.toString('pem'), keyPem };
    },
  };
}
