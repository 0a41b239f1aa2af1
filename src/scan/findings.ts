import type { Severity } from '../../commands/alerts/events.ts';
import { hostPort } from './address.ts';
import { WEAK_CLASSES, type WeakClass } from './cipher-suites.ts';
import type { ScanItem } from './items.ts';
import { type VulnerableBanner, defaultVulnerableBanners, matchBanner } from './vulnerable.ts';

export const FINDING_KINDS = [
  'new-open-port',
  'cert-expired',
  'cert-expiring',
  'cert-self-signed',
  'cert-weak-key',
  'tls-legacy-version',
  'weak-cipher',
  'vulnerable-banner',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

/**
 * A finding derived from a run's items. `key` is stable across runs for the same exposure
 * (`asm:<host:port>:<kind>[:<qualifier>]`, IPv6 in brackets), so the server updates one finding
 * instead of opening a new one each run; `title`, `severity`, `subject` and `details` fit the
 * `finding.reported` event of the attack-surface product.
 */
export interface ScanFinding {
  key: string;
  kind: FindingKind;
  severity: Severity;
  title: string;
  /** `address:port` (`[v6]:port`). */
  subject: string;
  target: string;
  address: string;
  port: number;
  details: Record<string, unknown>;
}

/** Settings of the finding rules. */
export interface FindingOptions {
  /** The instant the certificate rules judge by (the run's start): time is data here. */
  now: Date;
  /** A certificate expiring within this many days is reported. @defaultValue 30 */
  expiryWarningDays?: number;
  /** The previous run's items; without them no port counts as new (the first run is the baseline). */
  previousItems?: readonly ScanItem[] | null;
  /** Keys of the findings still open before this run: a new-open-port finding stays open while its port does. */
  previousOpenKeys?: Iterable<string>;
  /** @defaultValue defaultVulnerableBanners() */
  vulnerableBanners?: readonly VulnerableBanner[];
}

/** RSA and DSA keys below this many bits are weak. */
export const MIN_RSA_BITS = 2048;
/** EC keys below this many bits are weak. */
export const MIN_EC_BITS = 256;

/** Severity of a weak-cipher finding by class. */
export const WEAK_CLASS_SEVERITY: Record<WeakClass, Severity> = {
  null: 'high',
  export: 'high',
  anonymous: 'high',
  rc4: 'medium',
  des: 'medium',
  '3des': 'medium',
  'cbc-sha1': 'low',
};
const DAY_MS = 86_400_000;

/** The dedup key of a finding kind on an endpoint. */
export function findingKey(address: string, port: number, kind: FindingKind, qualifier?: string): string {
  return `asm:${hostPort(address, port)}:${kind}${qualifier ? `:${qualifier}` : ''}`;
}

function finding(item: ScanItem, kind: FindingKind, severity: Severity, title: string, details: Record<string, unknown>, qualifier?: string): ScanFinding {
  return {
    key: findingKey(item.address, item.port, kind, qualifier),
    kind,
    severity,
    title,
    subject: hostPort(item.address, item.port),
    target: item.target,
    address: item.address,
    port: item.port,
    details,
  };
}

/** Open ports that were not open in the previous run, and those whose new-open-port finding is still open. */
export function newOpenPortFindings(
  items: readonly ScanItem[],
  previousItems?: readonly ScanItem[] | null,
  previousOpenKeys?: Iterable<string>,
): ScanFinding[] {
  if (!previousItems) return [];
  const before = new Set(previousItems.filter((i) => i.state === 'open').map((i) => hostPort(i.address, i.port)));
  const carried = new Set(previousOpenKeys ?? []);
  return items
    .filter((i) => i.state === 'open')
    .filter((i) => !before.has(hostPort(i.address, i.port)) || carried.has(findingKey(i.address, i.port, 'new-open-port')))
    .map((i) =>
      finding(i, 'new-open-port', 'low', `New open port ${i.port}/tcp`, { ...(i.banner ? { banner: i.banner } : {}), ...(i.tls ? { tls: true } : {}) }),
    );
}

/** Expired, soon-expiring, self-signed and weak-key certificates (keys carry the certificate's SHA-256, so a new certificate is a new finding). */
export function certificateFindings(items: readonly ScanItem[], now: Date, expiryWarningDays = 30): ScanFinding[] {
  const out: ScanFinding[] = [];
  for (const item of items) {
    const c = item.tls?.certificate;
    if (!c) continue;
    const facts = { subject: c.subject, issuer: c.issuer, notAfter: c.notAfter, sha256: c.sha256 };
    const left = Date.parse(c.notAfter) - now.getTime();
    if (left < 0) out.push(finding(item, 'cert-expired', 'high', `Expired TLS certificate (${c.subject})`, facts, c.sha256));
    else if (left < expiryWarningDays * DAY_MS) {
      const days = Math.floor(left / DAY_MS);
      out.push(finding(item, 'cert-expiring', 'medium', `TLS certificate expires in ${days} days (${c.subject})`, { ...facts, daysLeft: days }, c.sha256));
    }
    if (c.selfSigned) out.push(finding(item, 'cert-self-signed', 'medium', `Self-signed TLS certificate (${c.subject})`, facts, c.sha256));
    const weak =
      ((c.keyType === 'rsa' || c.keyType === 'rsa-pss' || c.keyType === 'dsa') && c.keyBits < MIN_RSA_BITS) || (c.keyType === 'ec' && c.keyBits < MIN_EC_BITS);
    if (weak) {
      out.push(
        finding(
          item,
          'cert-weak-key',
          'high',
          `Weak TLS certificate key (${c.keyType} ${c.keyBits} bits)`,
          { ...facts, keyType: c.keyType, keyBits: c.keyBits },
          c.sha256,
        ),
      );
    }
  }
  return out;
}

/** TLS below 1.2 accepted (one finding per endpoint), and weak suites accepted (one per endpoint and weak class). */
export function tlsFindings(items: readonly ScanItem[]): ScanFinding[] {
  const out: ScanFinding[] = [];
  for (const item of items) {
    const tls = item.tls;
    if (!tls) continue;
    const legacy = tls.versions.filter((v) => v === 'TLSv1' || v === 'TLSv1.1');
    if (legacy.length) out.push(finding(item, 'tls-legacy-version', 'medium', `TLS below 1.2 accepted (${legacy.join(', ')})`, { versions: legacy }));
    for (const weakClass of WEAK_CLASSES) {
      const suites = tls.ciphers.filter((c) => c.weak === weakClass);
      if (!suites.length) continue;
      out.push(
        finding(
          item,
          'weak-cipher',
          WEAK_CLASS_SEVERITY[weakClass],
          `Weak TLS cipher suites accepted (${weakClass})`,
          { weakClass, ciphers: suites.map((s) => `${s.version} ${s.cipher}`) },
          weakClass,
        ),
      );
    }
  }
  return out;
}

/** Banners and HTTP Server values matching the known-vulnerable list (one finding per endpoint and entry). */
export function bannerFindings(items: readonly ScanItem[], list: readonly VulnerableBanner[] = defaultVulnerableBanners()): ScanFinding[] {
  const out: ScanFinding[] = [];
  for (const item of items) {
    const seen = new Set<string>();
    for (const [source, text] of [
      ['banner', item.banner],
      ['http-server', item.http?.server],
    ] as const) {
      if (!text) continue;
      for (const { entry, version } of matchBanner(text, list)) {
        if (seen.has(entry.id)) continue;
        seen.add(entry.id);
        out.push(
          finding(
            item,
            'vulnerable-banner',
            entry.severity,
            `${entry.product} ${version} (${entry.cves.join(', ')})`,
            { product: entry.product, version, cves: entry.cves, description: entry.title, source, text },
            entry.id,
          ),
        );
      }
    }
  }
  return out;
}

/**
 * Every finding of a run, one per key (an endpoint reached through two targets is reported once,
 * for the first target in item order), sorted by key.
 */
export function scanFindings(items: readonly ScanItem[], o: FindingOptions): ScanFinding[] {
  const all = [
    ...newOpenPortFindings(items, o.previousItems, o.previousOpenKeys),
    ...certificateFindings(items, o.now, o.expiryWarningDays ?? 30),
    ...tlsFindings(items),
    ...bannerFindings(items, o.vulnerableBanners ?? defaultVulnerableBanners()),
  ];
  const byKey = new Map<string, ScanFinding>();
  for (const f of all) if (!byKey.has(f.key)) byKey.set(f.key, f);
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** What a run changes about the open findings. */
export interface FindingDiff {
  /** Keys found now that were not open before. */
  new: string[];
  /** Keys open before and found again. */
  stillOpen: string[];
  /** Keys open before, not found now, on an endpoint this run looked at: the exposure is gone. */
  remediated: string[];
  /** Keys open before on an endpoint this run did not scan: nothing is known, they stay open. */
  unobserved: string[];
}

/**
 * Compares the open findings before a run with the run's findings. With `scannedItems`, a missing
 * finding only counts as remediated if the run scanned its address and port; without them, every
 * missing finding does.
 */
export function diffFindings(previousOpenKeys: Iterable<string>, current: readonly ScanFinding[], scannedItems?: readonly ScanItem[]): FindingDiff {
  const before = new Set(previousOpenKeys);
  const now = new Set(current.map((f) => f.key));
  const scanned = scannedItems ? new Set(scannedItems.map((i) => hostPort(i.address, i.port))) : null;
  const sorted = (s: Iterable<string>): string[] => [...s].sort();
  const gone = [...before].filter((k) => !now.has(k));
  const isScanned = (k: string): boolean => scanned === null || scanned.has(endpointOfKey(k) ?? '');
  return {
    new: sorted([...now].filter((k) => !before.has(k))),
    stillOpen: sorted([...now].filter((k) => before.has(k))),
    remediated: sorted(gone.filter(isScanned)),
    unobserved: sorted(gone.filter((k) => !isScanned(k))),
  };
}

/** The `host:port` part of a finding key (`[v6]:port` for IPv6); null if the key is not one of ours. */
export function endpointOfKey(key: string): string | null {
  const m = /^asm:(\[[0-9a-f:.]+\]:\d+|[0-9.]+:\d+):/.exec(key);
  return m ? m[1]! : null;
}
