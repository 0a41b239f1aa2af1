import { type IpRange, rangeCovered } from './address.ts';
import { type Allowlist, parseAllowlist, type ScanRefusalCode, type TargetProblem } from './allowlist.ts';
import { refusedBlock } from './ranges.ts';
import { parseTarget } from './targets.ts';

export type Precheck = { ok: true; targets: string[]; allowlist: Allowlist } | { ok: false; code: ScanRefusalCode; problems: TargetProblem[] };

/**
 * The allowlist check that needs no network, for the moment a scan is asked for (a dispatch, a
 * scan request): every target well-formed, every address and block inside the allowlist's ranges
 * and clear of the refused blocks, every hostname allowlisted by name. Names are not resolved
 * here: `checkScanRequest` does that where the scan runs, with the DNS-rebinding defence, before
 * anything is sent. Pure, so a decider can apply it.
 */
export function precheckTargets(targets: readonly string[], allowlistEntries: readonly string[], o: { refuseInternal?: boolean } = {}): Precheck {
  const parsed = parseAllowlist(allowlistEntries);
  if (!parsed.ok) return { ok: false, code: parsed.code, problems: parsed.problems };
  const list = parsed.allowlist;
  const problems: TargetProblem[] = [];
  const out: string[] = [];
  for (const text of targets) {
    const p = parseTarget(text);
    if (!p.ok) {
      problems.push({ target: String(text).slice(0, 260), reason: p.reason, detail: p.detail });
      continue;
    }
    const t = p.target;
    if (!out.includes(t.text)) out.push(t.text);
    if (t.kind === 'hostname') {
      if (!list.names.has(t.text) && !list.suffixes.some((s) => t.text.endsWith(s)))
        problems.push({ target: t.text, reason: 'name-not-allowlisted', detail: 'the hostname is not in the allowlist' });
    } else if (t.kind === 'ip' || t.kind === 'cidr') {
      const blocked = refusedBlock(t.range, o.refuseInternal ?? false);
      if (blocked) problems.push({ target: t.text, reason: 'refused-block', detail: `touches ${blocked}` });
      else if (!rangeCovered(list.ranges as IpRange[], t.range))
        problems.push({ target: t.text, reason: 'outside-allowlist', detail: 'not inside the allowlist' });
    }
  }
  const syntax = new Set(['invalid', 'cidr-too-wide', 'host-bits-set', 'wildcard-not-allowed']);
  if (problems.some((p) => syntax.has(p.reason))) return { ok: false, code: 'STK_ERR_SCAN_TARGET_INVALID', problems };
  if (problems.length) return { ok: false, code: 'STK_ERR_SCAN_TARGET_REFUSED', problems };
  return { ok: true, targets: out, allowlist: list };
}
