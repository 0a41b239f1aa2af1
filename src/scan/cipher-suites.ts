/**
 * TLS 1.0–1.2 cipher suites the raw ClientHello probes can offer, by IANA code point and IANA
 * name (the `standardName` node reports), each with its weak class. The table is ours, not
 * OpenSSL's, on purpose: node's bundled OpenSSL no longer offers RC4, DES, 3DES or EXPORT suites
 * at all, so it cannot ask a server whether it still accepts them; a hand-written ClientHello can.
 * PSK and SRP suites are left out (they need a shared secret before the server will choose them).
 */

/** Weak classes, worst first; a suite belongs to the worst class it qualifies for. */
export const WEAK_CLASSES = ['null', 'export', 'anonymous', 'rc4', 'des', '3des', 'cbc-sha1'] as const;
export type WeakClass = (typeof WEAK_CLASSES)[number];

export interface CipherSuite {
  code: number;
  name: string;
  weak: WeakClass | null;
}

// [code, IANA name, weak class or null]
const TABLE: Array<[number, string, WeakClass | null]> = [
  // No encryption at all.
  [0x0001, 'TLS_RSA_WITH_NULL_MD5', 'null'],
  [0x0002, 'TLS_RSA_WITH_NULL_SHA', 'null'],
  [0x003b, 'TLS_RSA_WITH_NULL_SHA256', 'null'],
  [0xc001, 'TLS_ECDH_ECDSA_WITH_NULL_SHA', 'null'],
  [0xc006, 'TLS_ECDHE_ECDSA_WITH_NULL_SHA', 'null'],
  [0xc00b, 'TLS_ECDH_RSA_WITH_NULL_SHA', 'null'],
  [0xc010, 'TLS_ECDHE_RSA_WITH_NULL_SHA', 'null'],
  [0xc015, 'TLS_ECDH_anon_WITH_NULL_SHA', 'null'],
  // 40- and 56-bit export grade.
  [0x0003, 'TLS_RSA_EXPORT_WITH_RC4_40_MD5', 'export'],
  [0x0006, 'TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5', 'export'],
  [0x0008, 'TLS_RSA_EXPORT_WITH_DES40_CBC_SHA', 'export'],
  [0x000b, 'TLS_DH_DSS_EXPORT_WITH_DES40_CBC_SHA', 'export'],
  [0x000e, 'TLS_DH_RSA_EXPORT_WITH_DES40_CBC_SHA', 'export'],
  [0x0011, 'TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA', 'export'],
  [0x0014, 'TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA', 'export'],
  [0x0017, 'TLS_DH_anon_EXPORT_WITH_RC4_40_MD5', 'export'],
  [0x0019, 'TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA', 'export'],
  // No server authentication.
  [0x0018, 'TLS_DH_anon_WITH_RC4_128_MD5', 'anonymous'],
  [0x001a, 'TLS_DH_anon_WITH_DES_CBC_SHA', 'anonymous'],
  [0x001b, 'TLS_DH_anon_WITH_3DES_EDE_CBC_SHA', 'anonymous'],
  [0x0034, 'TLS_DH_anon_WITH_AES_128_CBC_SHA', 'anonymous'],
  [0x003a, 'TLS_DH_anon_WITH_AES_256_CBC_SHA', 'anonymous'],
  [0x0046, 'TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA', 'anonymous'],
  [0x006c, 'TLS_DH_anon_WITH_AES_128_CBC_SHA256', 'anonymous'],
  [0x006d, 'TLS_DH_anon_WITH_AES_256_CBC_SHA256', 'anonymous'],
  [0x0089, 'TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA', 'anonymous'],
  [0x00a6, 'TLS_DH_anon_WITH_AES_128_GCM_SHA256', 'anonymous'],
  [0x00a7, 'TLS_DH_anon_WITH_AES_256_GCM_SHA384', 'anonymous'],
  [0xc016, 'TLS_ECDH_anon_WITH_RC4_128_SHA', 'anonymous'],
  [0xc017, 'TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA', 'anonymous'],
  [0xc018, 'TLS_ECDH_anon_WITH_AES_128_CBC_SHA', 'anonymous'],
  [0xc019, 'TLS_ECDH_anon_WITH_AES_256_CBC_SHA', 'anonymous'],
  // RC4 (RFC 7465 prohibits it).
  [0x0004, 'TLS_RSA_WITH_RC4_128_MD5', 'rc4'],
  [0x0005, 'TLS_RSA_WITH_RC4_128_SHA', 'rc4'],
  [0xc002, 'TLS_ECDH_ECDSA_WITH_RC4_128_SHA', 'rc4'],
  [0xc007, 'TLS_ECDHE_ECDSA_WITH_RC4_128_SHA', 'rc4'],
  [0xc00c, 'TLS_ECDH_RSA_WITH_RC4_128_SHA', 'rc4'],
  [0xc011, 'TLS_ECDHE_RSA_WITH_RC4_128_SHA', 'rc4'],
  // Single DES (56-bit key).
  [0x0009, 'TLS_RSA_WITH_DES_CBC_SHA', 'des'],
  [0x000c, 'TLS_DH_DSS_WITH_DES_CBC_SHA', 'des'],
  [0x000f, 'TLS_DH_RSA_WITH_DES_CBC_SHA', 'des'],
  [0x0012, 'TLS_DHE_DSS_WITH_DES_CBC_SHA', 'des'],
  [0x0015, 'TLS_DHE_RSA_WITH_DES_CBC_SHA', 'des'],
  // Triple DES: a 64-bit block (Sweet32).
  [0x000a, 'TLS_RSA_WITH_3DES_EDE_CBC_SHA', '3des'],
  [0x000d, 'TLS_DH_DSS_WITH_3DES_EDE_CBC_SHA', '3des'],
  [0x0010, 'TLS_DH_RSA_WITH_3DES_EDE_CBC_SHA', '3des'],
  [0x0013, 'TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA', '3des'],
  [0x0016, 'TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA', '3des'],
  [0xc003, 'TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA', '3des'],
  [0xc008, 'TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA', '3des'],
  [0xc00d, 'TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA', '3des'],
  [0xc012, 'TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA', '3des'],
  // CBC with an HMAC-SHA1 record MAC (MAC-then-encrypt, Lucky13-class padding oracles).
  [0x0007, 'TLS_RSA_WITH_IDEA_CBC_SHA', 'cbc-sha1'],
  [0x002f, 'TLS_RSA_WITH_AES_128_CBC_SHA', 'cbc-sha1'],
  [0x0030, 'TLS_DH_DSS_WITH_AES_128_CBC_SHA', 'cbc-sha1'],
  [0x0031, 'TLS_DH_RSA_WITH_AES_128_CBC_SHA', 'cbc-sha1'],
  [0x0032, 'TLS_DHE_DSS_WITH_AES_128_CBC_SHA', 'cbc-sha1'],
  [0x0033, 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA', 'cbc-sha1'],
  [0x0035, 'TLS_RSA_WITH_AES_256_CBC_SHA', 'cbc-sha1'],
  [0x0036, 'TLS_DH_DSS_WITH_AES_256_CBC_SHA', 'cbc-sha1'],
  [0x0037, 'TLS_DH_RSA_WITH_AES_256_CBC_SHA', 'cbc-sha1'],
  [0x0038, 'TLS_DHE_DSS_WITH_AES_256_CBC_SHA', 'cbc-sha1'],
  [0x0039, 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA', 'cbc-sha1'],
  [0x0041, 'TLS_RSA_WITH_CAMELLIA_128_CBC_SHA', 'cbc-sha1'],
  [0x0044, 'TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA', 'cbc-sha1'],
  [0x0045, 'TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA', 'cbc-sha1'],
  [0x0084, 'TLS_RSA_WITH_CAMELLIA_256_CBC_SHA', 'cbc-sha1'],
  [0x0087, 'TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA', 'cbc-sha1'],
  [0x0088, 'TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA', 'cbc-sha1'],
  [0x0096, 'TLS_RSA_WITH_SEED_CBC_SHA', 'cbc-sha1'],
  [0x009a, 'TLS_DHE_RSA_WITH_SEED_CBC_SHA', 'cbc-sha1'],
  [0xc004, 'TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA', 'cbc-sha1'],
  [0xc005, 'TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA', 'cbc-sha1'],
  [0xc009, 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', 'cbc-sha1'],
  [0xc00a, 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA', 'cbc-sha1'],
  [0xc00e, 'TLS_ECDH_RSA_WITH_AES_128_CBC_SHA', 'cbc-sha1'],
  [0xc00f, 'TLS_ECDH_RSA_WITH_AES_256_CBC_SHA', 'cbc-sha1'],
  [0xc013, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 'cbc-sha1'],
  [0xc014, 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', 'cbc-sha1'],
  // Not weak by these rules; offered so that detection and version probes find any TLS 1.2 server.
  [0x003c, 'TLS_RSA_WITH_AES_128_CBC_SHA256', null],
  [0x003d, 'TLS_RSA_WITH_AES_256_CBC_SHA256', null],
  [0x0067, 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA256', null],
  [0x006b, 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA256', null],
  [0x009c, 'TLS_RSA_WITH_AES_128_GCM_SHA256', null],
  [0x009d, 'TLS_RSA_WITH_AES_256_GCM_SHA384', null],
  [0x009e, 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256', null],
  [0x009f, 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384', null],
  [0xc023, 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', null],
  [0xc024, 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384', null],
  [0xc027, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256', null],
  [0xc028, 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384', null],
  [0xc02b, 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', null],
  [0xc02c, 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', null],
  [0xc02f, 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', null],
  [0xc030, 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', null],
  [0xcca8, 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', null],
  [0xcca9, 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', null],
  [0xccaa, 'TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256', null],
];

/** Every suite of the table, in table order. */
export const CIPHER_SUITES: readonly CipherSuite[] = Object.freeze(TABLE.map(([code, name, weak]) => Object.freeze({ code, name, weak })));

const BY_CODE = new Map(CIPHER_SUITES.map((s) => [s.code, s]));
const BY_NAME = new Map(CIPHER_SUITES.map((s) => [s.name, s]));

/** The IANA name of a code point; `0xC0FF`-style hex for one the table does not know. */
export function suiteName(code: number): string {
  return BY_CODE.get(code)?.name ?? `0x${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The weak class of a suite named by its IANA name (TLS 1.3 suites and unknown names: null). */
export function weakClassOf(name: string): WeakClass | null {
  return BY_NAME.get(name)?.weak ?? null;
}

/** The code points of one weak class. */
export function suitesOfClass(c: WeakClass): number[] {
  return CIPHER_SUITES.filter((s) => s.weak === c).map((s) => s.code);
}
