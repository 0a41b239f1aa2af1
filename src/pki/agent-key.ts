import { webcrypto } from 'node:crypto';
import * as x509 from './x509.ts';

export type AgentKeyType = 'ec-P-256' | 'ec-P-384' | 'ed25519' | { rsaBits: number };

/**
 * The agent side of enrollment: a new private key and a CSR signed with it. The key stays with the
 * agent (PKCS#8 PEM); only the CSR goes to the server, which ignores the subject it asks for.
 */
export async function createAgentKeyAndCsr(type: AgentKeyType = 'ec-P-256', subject = 'CN=stockade-agent'): Promise<{ keyPem: string; csrPem: string }> {
  let alg: RsaHashedKeyGenParams | EcKeyGenParams | Algorithm;
  let signing: Algorithm | EcdsaParams;
  if (typeof type === 'object') {
    alg = { name: 'RSASSA-PKCS1-v1_5', modulusLength: type.rsaBits, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' } as RsaHashedKeyGenParams;
    signing = alg;
  } else if (type === 'ed25519') {
    alg = { name: 'Ed25519' };
    signing = alg;
  } else {
    const curve = type === 'ec-P-384' ? 'P-384' : 'P-256';
    alg = { name: 'ECDSA', namedCurve: curve } as EcKeyGenParams;
    signing = { name: 'ECDSA', hash: curve === 'P-384' ? 'SHA-384' : 'SHA-256' } as EcdsaParams;
  }
  const keys = (await webcrypto.subtle.generateKey(alg as EcKeyGenParams, true, ['sign', 'verify'])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: subject, keys, signingAlgorithm: signing });
  const keyPem = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  return { keyPem, csrPem: csr.toString('pem') };
}

/** Facts of a PEM certificate an agent needs: its CN, serial and expiry. */
export function certificateFacts(pem: string): { commonName: string; serial: string; notBefore: Date; notAfter: Date } {
  const cert = new x509.X509Certificate(pem);
  const cn = cert.subjectName.getField('CN')[0] ?? '';
  return { commonName: cn, serial: cert.serialNumber.toLowerCase(), notBefore: cert.notBefore, notAfter: cert.notAfter };
}
