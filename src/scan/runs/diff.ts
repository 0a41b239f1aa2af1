import type { CertificateChange, CertificateSummary, RunDiff } from '../../../commands/scans/events.ts';
import { hostPort } from '../address.ts';
import { diffFindings, type ScanFinding, scanFindings } from '../findings.ts';
import type { ScanItem } from '../items.ts';
import type { VulnerableBanner } from '../vulnerable.ts';

/** Most keys or endpoints one list of a run's diff carries in its event. */
export const RUN_DIFF_MAX = 1000;

/** What a run found and what it changed against the run before it in its scope. */
export interface RunJudgement {
  findings: ScanFinding[];
  diff: RunDiff;
  /** Dedup keys of the findings open after this run (new, still open, and those on endpoints it did not scan). */
  openKeys: string[];
  counts: { open: number; closed: number; filtered: number; tls: number };
}

/**
 * Judges a run's items against the previous run of its scope. A port counts as newly open only
 * where the previous run looked at it and did not find it open: an endpoint the previous run did
 * not scan is a baseline, not news. Pure: time comes in as `now` (the run's start).
 */
export function judgeRun(
  items: readonly ScanItem[],
  previous: { items: readonly ScanItem[] | null; openKeys: readonly string[] },
  o: { now: Date; expiryWarningDays: number; vulnerableBanners?: readonly VulnerableBanner[] },
): RunJudgement {
  const prevScanned = new Set((previous.items ?? []).map((i) => hostPort(i.address, i.port)));
  const prevOpen = new Set((previous.items ?? []).filter((i) => i.state === 'open').map((i) => hostPort(i.address, i.port)));
  // The previous run as the open-port rule sees it: unseen endpoints count as already known.
  const baseline = previous.items ? [...previous.items, ...items.filter((i) => i.state === 'open' && !prevScanned.has(hostPort(i.address, i.port)))] : null;
  const findings = scanFindings(items, {
    now: o.now,
    expiryWarningDays: o.expiryWarningDays,
    previousItems: baseline,
    previousOpenKeys: previous.openKeys,
    ...(o.vulnerableBanners ? { vulnerableBanners: o.vulnerableBanners } : {}),
  });
  const fd = diffFindings(previous.openKeys, findings, items);
  const nowScanned = new Set(items.map((i) => hostPort(i.address, i.port)));
  const nowOpen = new Set(items.filter((i) => i.state === 'open').map((i) => hostPort(i.address, i.port)));
  const opened = [...nowOpen].filter((e) => prevScanned.has(e) && !prevOpen.has(e)).sort();
  const closed = [...prevOpen].filter((e) => nowScanned.has(e) && !nowOpen.has(e)).sort();
  let truncated = false;
  const cap = <T>(l: T[]): T[] => {
    if (l.length <= RUN_DIFF_MAX) return l;
    truncated = true;
    return l.slice(0, RUN_DIFF_MAX);
  };
  const certificates = certificateChanges(previous.items ?? [], items);
  const diff: RunDiff = {
    opened: cap(opened),
    closed: cap(closed),
    findings: { new: cap(fd.new), stillOpen: cap(fd.stillOpen), remediated: cap(fd.remediated), unobserved: cap(fd.unobserved) },
    certificates: cap(certificates),
    truncated,
  };
  const counts = { open: 0, closed: 0, filtered: 0, tls: 0 };
  for (const i of items) {
    counts[i.state]++;
    if (i.tls) counts.tls++;
  }
  return { findings, diff, openKeys: [...new Set([...fd.new, ...fd.stillOpen, ...fd.unobserved])].sort(), counts };
}

function certificateOf(i: ScanItem): CertificateSummary | null {
  const c = i.tls?.certificate;
  return c ? { sha256: c.sha256, subject: c.subject, notAfter: c.notAfter, selfSigned: c.selfSigned } : null;
}

/**
 * Endpoints open in both runs that served different certificates (a renewal, a replacement, TLS
 * switched on or off). A port that opened or closed is in `opened`/`closed` instead.
 */
function certificateChanges(previous: readonly ScanItem[], items: readonly ScanItem[]): CertificateChange[] {
  const before = new Map(previous.filter((i) => i.state === 'open').map((i) => [hostPort(i.address, i.port), certificateOf(i)]));
  const out: CertificateChange[] = [];
  for (const i of items) {
    const endpoint = hostPort(i.address, i.port);
    if (i.state !== 'open' || !before.has(endpoint)) continue;
    const from = before.get(endpoint) ?? null;
    const to = certificateOf(i);
    if ((from?.sha256 ?? null) !== (to?.sha256 ?? null)) out.push({ endpoint, from, to });
  }
  return out.sort((a, b) => (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0));
}

/** Every key the run remediates: open before, not open after (the diff's own list is capped for the event). */
export function remediatedKeys(previousOpenKeys: readonly string[], j: RunJudgement): string[] {
  const open = new Set(j.openKeys);
  return previousOpenKeys.filter((k) => !open.has(k)).sort();
}
