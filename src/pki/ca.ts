import { type KeyObject, createHash, createPrivateKey, randomBytes, sign, webcrypto } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import * as x509 from './x509.ts';
import * as asn from '@peculiar/asn1-x509';
import { AsnConvert, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema';
import { id_ecdsaWithSHA256 } from '@peculiar/asn1-ecc';
import { StkError } from '../errors.ts';

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
/** Certificates start this much in the past so an agent whose clock runs a little behind can use them at once. */
const BACKDATE_MS = 5 * 60_000;
const OID_CN = '2.5.4.3';
const OID_O = '2.5.4.10';

/** Default validity of an agent certificate. */
export const AGENT_CERT_DAYS = 30;

/** An issued agent certificate and the facts about it that go into events. */
export interface IssuedCertificate {
  pem: string;
  /** Hex serial number. */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** Hex SHA-256 of the certificate's DER: names it in events. */
  fingerprint: string;
}

/**
 * The install's certificate authority: an ECDSA P-256 key and self-signed certificate under
 * `<data>/pki` (`ca.key` mode 0600, `ca.crt`), created on first use. It signs the ingress's
 * server certificate and every agent's client certificate; the ingress trusts nothing else.
 */
export class InstallCa {
  /** PEM of the CA certificate, the trust anchor agents pin. */
  readonly certificatePem: string;
  readonly certificate: x509.X509Certificate;
  readonly #key: KeyObject;
  readonly #cryptoKey: CryptoKey;
  readonly #issuer: asn.Name;
  readonly #agentExtensions: asn.Extension[];
  readonly #sigAlg = new asn.AlgorithmIdentifier({ algorithm: id_ecdsaWithSHA256 });

  private constructor(certPem: string, key: KeyObject, cryptoKey: CryptoKey, aki: x509.Extension) {
    this.certificatePem = certPem;
    this.certificate = new x509.X509Certificate(certPem);
    this.#key = key;
    this.#cryptoKey = cryptoKey;
    this.#issuer = AsnConvert.parse(this.certificate.subjectName.toArrayBuffer(), asn.Name);
    // Client-auth only: an agent certificate cannot serve TLS, sign code or issue certificates.
    this.#agentExtensions = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
      aki,
    ].map((e) => AsnConvert.parse(e.rawData, asn.Extension));
  }

  /**
   * Loads the CA of `dir`, creating it on first use. Two processes starting together on one data
   * folder agree on one CA: the key file is created exclusively and the loser loads the winner's.
   */
  static async open(dir: string, o: { now?: Date; commonName?: string } = {}): Promise<InstallCa> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const keyPath = join(dir, 'ca.key');
    const certPath = join(dir, 'ca.crt');
    const existing = await loadPair(keyPath, certPath);
    if (existing) return InstallCa.#fromPem(existing.certPem, existing.keyPem);

    const now = o.now ?? new Date();
    const keys = await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      name: [{ CN: [o.commonName ?? `Stockade install CA ${randomBytes(4).toString('hex')}`] }],
      keys,
      signingAlgorithm: EC_P256,
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter: new Date(now.getTime() + 3650 * DAY_MS),
      serialNumber: serialHex(),
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    const keyPem = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
    const certPem = cert.toString('pem');
    const tmp = `${certPath}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, `${certPem}\n`, { mode: 0o644 });
    try {
      await writeFile(keyPath, `${keyPem}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      await rm(tmp, { force: true });
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const theirs = await waitForPair(keyPath, certPath);
      return InstallCa.#fromPem(theirs.certPem, theirs.keyPem);
    }
    await chmod(keyPath, 0o600); // a umask cannot widen it, but an inherited ACL-less FS can
    await rename(tmp, certPath);
    return InstallCa.#fromPem(certPem, keyPem);
  }

  static async #fromPem(certPem: string, keyPem: string): Promise<InstallCa> {
    const key = createPrivateKey(keyPem);
    const der = x509.PemConverter.decodeFirst(keyPem);
    const cryptoKey = await webcrypto.subtle.importKey('pkcs8', der, EC_P256, false, ['sign']);
    const cert = new x509.X509Certificate(certPem);
    const aki = await x509.AuthorityKeyIdentifierExtension.create(cert, false);
    return new InstallCa(certPem.trim(), key, cryptoKey, aki);
  }

  /**
   * Issues the ingress's TLS server certificate for `hosts` (names and IP addresses) with a fresh
   * key that never touches the disk: each start of the ingress gets its own.
   */
  async issueServerCertificate(hosts: string[], o: { now?: Date; validityDays?: number } = {}): Promise<{ certPem: string; keyPem: string }> {
    const now = o.now ?? new Date();
    const keys = await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
    const names = [...new Set(['localhost', '127.0.0.1', '::1', ...hosts])].filter((h) => h && h !== '0.0.0.0' && h !== '::');
    const cert = await x509.X509CertificateGenerator.create({
      subject: [{ CN: ['stockade ingress'] }],
      issuer: this.certificate.subjectName.toString(),
      publicKey: keys.publicKey,
      signingKey: this.#cryptoKey,
      signingAlgorithm: EC_P256,
      serialNumber: serialHex(),
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter: new Date(now.getTime() + (o.validityDays ?? 90) * DAY_MS),
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension(names.map((h) => (isIP(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h }))),
        await x509.AuthorityKeyIdentifierExtension.create(this.certificate, false),
      ],
    });
    const keyPem = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
    return { certPem: cert.toString('pem'), keyPem };
  }

  /**
   * Issues an agent's client certificate for the key of a verified CSR: subject CN = agent id,
   * O = tenant, client-auth usage only, valid `validityDays` from `now`. The tenant in the subject
   * only says where the agent's enrolled record lives; the ingress still reads that record.
   */
  issueAgentCertificate(p: { spki: asn.SubjectPublicKeyInfo; agentId: string; tenant: string; now: Date; validityDays?: number }): IssuedCertificate {
    const notBefore = new Date(p.now.getTime() - BACKDATE_MS);
    const notAfter = new Date(p.now.getTime() + (p.validityDays ?? AGENT_CERT_DAYS) * DAY_MS);
    const serial = serialBytes();
    const tbs = new asn.TBSCertificate({
      version: asn.Version.v3,
      serialNumber: serial.buffer.slice(serial.byteOffset, serial.byteOffset + serial.length) as ArrayBuffer,
      signature: this.#sigAlg,
      issuer: this.#issuer,
      validity: new asn.Validity({ notBefore, notAfter }),
      subject: new asn.Name([rdn(OID_CN, p.agentId), rdn(OID_O, p.tenant)]),
      subjectPublicKeyInfo: p.spki,
      extensions: new asn.Extensions(this.#agentExtensions),
    });
    const tbsDer = new Uint8Array(AsnConvert.serialize(tbs));
    const signature = sign('sha256', tbsDer, { key: this.#key, dsaEncoding: 'der' });
    const cert = new SignedCertificate();
    cert.tbsCertificate = tbsDer;
    cert.signatureAlgorithm = this.#sigAlg;
    cert.signatureValue = signature.buffer.slice(signature.byteOffset, signature.byteOffset + signature.length) as ArrayBuffer;
    const der = AsnConvert.serialize(cert);
    return {
      pem: x509.PemConverter.encode(der, 'CERTIFICATE'),
      serial: serial.toString('hex'),
      fingerprint: createHash('sha256').update(Buffer.from(der)).digest('hex'),
      notBefore,
      notAfter,
    };
  }
}

/**
 * An element already in DER, written as it is. The certificate embeds exactly the TBS bytes that
 * were signed, instead of a second encoding of the same structure (which the signature would only
 * cover if the encoder were deterministic), and encoding the certificate costs a tenth as much.
 */
class EncodedElement {
  constructor(readonly der: Uint8Array) {}
  toBER(_sizeOnly?: boolean, writer?: { write(buf: Uint8Array): void }): ArrayBuffer {
    if (writer) {
      writer.write(this.der);
      return new ArrayBuffer(0);
    }
    return this.der.slice().buffer;
  }
}

/** RFC 5280 `Certificate` with its `tbsCertificate` kept as the signed DER (asn1-x509's, otherwise). */
class SignedCertificate {
  tbsCertificate = new Uint8Array(0);
  signatureAlgorithm = new asn.AlgorithmIdentifier();
  signatureValue = new ArrayBuffer(0);
}
AsnProp({ type: AsnPropTypes.Any, converter: { fromASN: () => new Uint8Array(0), toASN: (der: Uint8Array) => new EncodedElement(der) as never } })(
  SignedCertificate.prototype,
  'tbsCertificate',
);
AsnProp({ type: asn.AlgorithmIdentifier })(SignedCertificate.prototype, 'signatureAlgorithm');
AsnProp({ type: AsnPropTypes.BitString })(SignedCertificate.prototype, 'signatureValue');
AsnType({ type: AsnTypeTypes.Sequence })(SignedCertificate);

function rdn(type: string, value: string): asn.RelativeDistinguishedName {
  return new asn.RelativeDistinguishedName([new asn.AttributeTypeAndValue({ type, value: new asn.AttributeValue({ utf8String: value }) })]);
}

/** 128 random bits as a positive, minimally encoded DER INTEGER (top bit clear, next bit set). */
function serialBytes(): Buffer {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x3f) | 0x40;
  return b;
}

function serialHex(): string {
  return serialBytes().toString('hex');
}

async function loadPair(keyPath: string, certPath: string): Promise<{ keyPem: string; certPem: string } | null> {
  let keyPem: string;
  try {
    keyPem = await readFile(keyPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new StkError('STK_ERR_CONFIG', `cannot read the CA key ${keyPath}: ${(err as Error).message}`, { path: keyPath }, { cause: err });
  }
  try {
    return { keyPem, certPem: await readFile(certPath, 'utf8') };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** The process that won the race to create the CA writes the certificate right after the key. */
async function waitForPair(keyPath: string, certPath: string): Promise<{ keyPem: string; certPem: string }> {
  for (let i = 0; i < 100; i++) {
    const pair = await loadPair(keyPath, certPath);
    if (pair) return pair;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new StkError('STK_ERR_CONFIG', `CA key ${keyPath} exists without its certificate ${certPath}`, { path: certPath });
}
