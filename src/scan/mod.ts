/**
 * The attack-surface scanning engine: allowlist check, TCP connect scan with banner grab, TLS
 * analysis and HTTP probe, items in a defined order with their canonical bytes, and the finding
 * rules. Used by the agent (`run-scan`) and by the server's scanner role for declared targets.
 * docs/attack-surface.md describes what it does on the network.
 */
export {
  type Allowlist,
  type AllowlistParse,
  type CheckOptions,
  type ScanCheck,
  type ScanPlan,
  type ScanPlanTarget,
  type ScanRefusalCode,
  type ScanRequest,
  type TargetProblem,
  type TargetProblemReason,
  DEFAULT_MAX_PROBES,
  MAX_ADDRESSES_PER_NAME,
  MAX_ALLOWLIST_ENTRIES,
  MAX_REQUEST_TARGETS,
  checkScanRequest,
  isCheckedPlan,
  parseAllowlist,
  scanCheckError,
} from './allowlist.ts';
export { formatIp, hostPort, parseIp } from './address.ts';
export { canonicalJson } from './canonical.ts';
export type { CertificateFacts } from './certificate.ts';
export { CIPHER_SUITES, WEAK_CLASSES, type WeakClass, suiteName, weakClassOf } from './cipher-suites.ts';
export {
  type FindingDiff,
  type FindingKind,
  type FindingOptions,
  type ScanFinding,
  FINDING_KINDS,
  WEAK_CLASS_SEVERITY,
  MIN_EC_BITS,
  MIN_RSA_BITS,
  bannerFindings,
  certificateFindings,
  diffFindings,
  endpointOfKey,
  findingKey,
  newOpenPortFindings,
  scanFindings,
  tlsFindings,
} from './findings.ts';
export { DEFAULT_HTTP_PORTS } from './http.ts';
export { type HttpFacts, type PortState, type ScanItem, compareItems, escapePrintable, itemBytes, sortItems } from './items.ts';
export { TokenBucket } from './limits.ts';
export { INTERNAL, NEVER_SCANNED } from './ranges.ts';
export type { ResolveOptions } from './resolve.ts';
export { type ScanOptions, type ScanResult, runScan } from './scan.ts';
export { MIN_PREFIX_LENGTH, type Target, parseTarget } from './targets.ts';
export { TLS_VERSIONS, type TlsVersion } from './tls-hello.ts';
export { type TlsCipher, type TlsFacts, PROBE_CIPHERS } from './tls-probe.ts';
export {
  type VersionRange,
  type VulnerableBanner,
  compareVersions,
  compileVulnerableBanners,
  defaultVulnerableBanners,
  inRange,
  matchBanner,
} from './vulnerable.ts';
