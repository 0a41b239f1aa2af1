import { X509Certificate as NodeX509, createHash } from 'node:crypto';
import * as x509 from '../pki/x509.ts';

/** What a scan records of a server's leaf certificate. */
export interface CertificateFacts {
  /** RFC 4514 distinguished names, as @peculiar/x509 writes them (`CN=a, O=b`). */
  subject: string;
  issuer: string;
  /** Subject alternative names as `dns:…`, `ip:…`, `email:…`, `url:…`, in certificate order. */
  sans: string[];
  keyType: 'rsa' | 'rsa-pss' | 'ec' | 'ed25519' | 'ed448' | 'dsa' | 'unknown';
  /** RSA/DSA modulus bits, EC field bits (P-256: 256), 256 for Ed25519, 456 for Ed448. */
  keyBits: number;
  /** EC curve as a NIST name where there is one (`P-256`), else OpenSSL's name. */
  curve?: string;
  notBefore: string;
  notAfter: string;
  /** Issuer equals subject and the signature verifies with the certificate's own key. */
  selfSigned: boolean;
  /** Lower-case hex. */
  serial: string;
  /** Lower-case hex SHA-256 of the DER, no separators. */
  sha256: string;
}

const CURVES: Record<string, { name: string; bits: number }> = {
  prime256v1: { name: 'P-256', bits: 256 },
  secp384r1: { name: 'P-384', bits: 384 },
  secp521r1: { name: 'P-521', bits: 521 },
  secp224r1: { name: 'P-224', bits: 224 },
  prime192v1: { name: 'P-192', bits: 192 },
  secp256k1: { name: 'secp256k1', bits: 256 },
};

/** Reads the facts of a DER certificate; `null` if the bytes are not one. */
export function certificateFacts(der: Uint8Array): CertificateFacts | null {
  let node: NodeX509;
  let cert: x509.X509Certificate;
  try {
    node = new NodeX509(Buffer.from(der));
    cert = new x509.X509Certificate(Buffer.from(der));
  } catch {
    return null;
  }
  const key = node.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  let keyType: CertificateFacts['keyType'] = 'unknown';
  let keyBits = 0;
  let curve: string | undefined;
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
    case 'dsa':
      keyType = key.asymmetricKeyType;
      keyBits = details.modulusLength ?? 0;
      break;
    case 'ec': {
      keyType = 'ec';
      const c = CURVES[details.namedCurve ?? ''];
      curve = c?.name ?? details.namedCurve ?? 'unknown';
      keyBits = c?.bits ?? 0;
      break;
    }
    case 'ed25519':
      keyType = 'ed25519';
      keyBits = 256;
      break;
    case 'ed448':
      keyType = 'ed448';
      keyBits = 456;
      break;
  }
  let selfSigned = false;
  try {
    selfSigned = node.checkIssued(node) && node.verify(key);
  } catch {
    selfSigned = false;
  }
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const sans = san ? san.names.items.map((n) => `${n.type}:${n.value}`) : [];
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    sans,
    keyType,
    keyBits,
    ...(curve !== undefined ? { curve } : {}),
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    selfSigned,
    serial: cert.serialNumber.toLowerCase(),
    sha256: createHash('sha256').update(der).digest('hex'),
  };
}
