import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { ECParameters, id_ecPublicKey, id_secp256r1, id_secp384r1 } from '@peculiar/asn1-ecc';
import { AsnConvert } from '@peculiar/asn1-schema';
import type { SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { PemConverter } from './x509.ts';
import { StkError } from '../errors.ts';

/** Largest CSR (PEM text) the CA reads; a P-256 CSR is ~450 bytes, an RSA-4096 one ~1,700. */
export const CSR_MAX_PEM_CHARS = 8192;

/** Key types the CA signs. Everything else (DSA, RSA < 2048, other curves, X25519, …) is refused. */
export const ACCEPTED_KEYS = 'ECDSA P-256, ECDSA P-384, Ed25519, RSA ≥ 2048 bits';

/** A CSR whose signature was checked with the key it carries (proof of possession). */
export interface VerifiedCsr {
  /** The agent's public key as the CSR carries it: what the certificate will certify. */
  spki: SubjectPublicKeyInfo;
  /** e.g. `ec-P-256`, `rsa-3072`, `ed25519`. */
  keyType: string;
}

/** Signature algorithms a CSR may use, by OID. SHA-1 and RSA-PSS are not among them. */
const SIGNATURES: Record<string, { family: 'ec' | 'rsa' | 'ed25519'; hash: string | null }> = {
  '1.2.840.10045.4.3.2': { family: 'ec', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { family: 'ec', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { family: 'ec', hash: 'sha512' },
  '1.2.840.113549.1.1.11': { family: 'rsa', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { family: 'rsa', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { family: 'rsa', hash: 'sha512' },
  '1.3.101.112': { family: 'ed25519', hash: null },
};

/**
 * Parses a PEM CSR, refuses weak or unknown key types (STK_ERR_PKI_KEY_REFUSED) and checks its
 * signature with its own public key (STK_ERR_PKI_CSR_INVALID when it does not verify or is not a
 * CSR). The subject the CSR asks for is ignored: the server chooses the agent's name.
 */
export function verifyCsr(pem: string): VerifiedCsr {
  if (typeof pem !== 'string' || pem.length > CSR_MAX_PEM_CHARS || !pem.includes('-----BEGIN CERTIFICATE REQUEST-----')) {
    throw new StkError('STK_ERR_PKI_CSR_INVALID', 'csr must be a PEM "CERTIFICATE REQUEST"', { field: 'csr' });
  }
  let csr: CertificationRequest | null;
  try {
    csr = AsnConvert.parse(PemConverter.decodeFirst(pem), CertificationRequest);
  } catch (err) {
    throw new StkError('STK_ERR_PKI_CSR_INVALID', 'csr is not a valid PKCS#10 request', { field: 'csr' }, { cause: err });
  }
  if (!csr.certificationRequestInfoRaw) throw new StkError('STK_ERR_PKI_CSR_INVALID', 'csr is not a valid PKCS#10 request', { field: 'csr' });
  const spki = csr.certificationRequestInfo.subjectPKInfo;
  const { key, keyType } = importKey(spki);
  const ok = checkSignature(key, keyType, csr.signatureAlgorithm.algorithm, csr.certificationRequestInfoRaw, csr.signature);
  if (!ok) throw new StkError('STK_ERR_PKI_CSR_INVALID', 'csr signature does not verify with its own key (no proof of possession)', { field: 'csr' });
  return { spki, keyType };
}

const EC_JWK: Record<string, { crv: string; type: string; coordinate: number }> = {
  [id_secp256r1]: { crv: 'P-256', type: 'ec-P-256', coordinate: 32 },
  [id_secp384r1]: { crv: 'P-384', type: 'ec-P-384', coordinate: 48 },
};

/**
 * The CSR's key as a KeyObject, and its type if it is accepted. The common case, an uncompressed
 * P-256/P-384 point, is imported from its coordinates: OpenSSL 3 imports a JWK in about two thirds
 * of the time its DER decoders take, and enrollment is CPU-bound on exactly this.
 */
function importKey(spki: SubjectPublicKeyInfo): { key: KeyObject; keyType: string } {
  if (spki.algorithm.algorithm === id_ecPublicKey && spki.algorithm.parameters) {
    let curve: string | undefined;
    try {
      curve = AsnConvert.parse(spki.algorithm.parameters, ECParameters).namedCurve;
    } catch {
      curve = undefined;
    }
    const ec = curve ? EC_JWK[curve] : undefined;
    const point = new Uint8Array(spki.subjectPublicKey);
    if (ec && point.length === 1 + 2 * ec.coordinate && point[0] === 0x04) {
      const b64 = (from: number) => Buffer.from(point.subarray(from, from + ec.coordinate)).toString('base64url');
      try {
        return { key: createPublicKey({ key: { kty: 'EC', crv: ec.crv, x: b64(1), y: b64(1 + ec.coordinate) }, format: 'jwk' }), keyType: ec.type };
      } catch (err) {
        throw new StkError('STK_ERR_PKI_CSR_INVALID', 'csr key is not a valid point of its curve', { field: 'csr' }, { cause: err });
      }
    }
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(AsnConvert.serialize(spki)), format: 'der', type: 'spki' });
  } catch (err) {
    throw new StkError('STK_ERR_PKI_KEY_REFUSED', `csr key is of an unknown type; accepted: ${ACCEPTED_KEYS}`, { field: 'csr' }, { cause: err });
  }
  return { key, keyType: acceptedKeyType(key) };
}

function acceptedKeyType(key: KeyObject): string {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec':
      if (details.namedCurve === 'prime256v1' || details.namedCurve === 'P-256') return 'ec-P-256';
      if (details.namedCurve === 'secp384r1' || details.namedCurve === 'P-384') return 'ec-P-384';
      break;
    case 'rsa':
      if ((details.modulusLength ?? 0) >= 2048 && (details.modulusLength ?? 0) <= 8192) return `rsa-${details.modulusLength}`;
      break;
    case 'ed25519':
      return 'ed25519';
  }
  const what = [key.asymmetricKeyType, details.namedCurve ?? details.modulusLength].filter(Boolean).join(' ');
  throw new StkError('STK_ERR_PKI_KEY_REFUSED', `csr key ${what} is refused; accepted: ${ACCEPTED_KEYS}`, { field: 'csr' });
}

function checkSignature(key: KeyObject, keyType: string, oid: string, tbs: ArrayBuffer, signature: ArrayBuffer): boolean {
  const alg = SIGNATURES[oid];
  if (!alg || !keyType.startsWith(alg.family)) return false;
  try {
    if (alg.family === 'ed25519') return verify(null, Buffer.from(tbs), key, Buffer.from(signature));
    if (alg.family === 'ec') return verify(alg.hash, Buffer.from(tbs), { key, dsaEncoding: 'der' }, Buffer.from(signature));
    return verify(alg.hash, Buffer.from(tbs), key, Buffer.from(signature));
  } catch {
    return false;
  }
}
