import { compareVersions } from './version.ts';

/** One entry of a Debian changelog (`debian/changelog`, shipped as `changelog.Debian.gz`). */
export interface ChangelogEntry {
  source: string;
  version: string;
  distributions: string;
  urgency: string;
  /** The change lines, without the header and trailer. */
  text: string;
}

const HEADER = /^(\S+) \(([^()\s]+)\) ([^;]*);(.*)$/;
const CVE = /\bCVE-\d{4}-\d{4,7}\b/g;

/** Parses the entries of a Debian changelog; lines before the first header and foreign formats are skipped. */
export function parseChangelog(text: string): ChangelogEntry[] {
  const entries: ChangelogEntry[] = [];
  let current: (ChangelogEntry & { lines: string[] }) | null = null;
  const flush = (): void => {
    if (current) {
      const { lines, ...entry } = current;
      entries.push({ ...entry, text: lines.join('\n').trim() });
    }
    current = null;
  };
  for (const line of text.split('\n')) {
    const head = HEADER.exec(line);
    if (head) {
      flush();
      const urgency = /urgency=(\w+)/i.exec(head[4]!)?.[1] ?? '';
      current = { source: head[1]!, version: head[2]!, distributions: head[3]!.trim(), urgency, text: '', lines: [] };
    } else if (current && line.startsWith(' -- ')) {
      flush();
    } else if (current) {
      current.lines.push(line);
    }
  }
  flush();
  return entries;
}

/** Every CVE id named in `text`, deduplicated and sorted. */
export function cveIds(text: string): string[] {
  return [...new Set(text.match(CVE) ?? [])].sort();
}

/**
 * The CVE ids named by the changelog entries an upgrade from `from` to `to` brings: the entries
 * with a version above `from` and up to `to`. A null `from` takes every entry up to `to`.
 */
export function cvesFixedBetween(entries: ChangelogEntry[], from: string | null, to: string): string[] {
  const ids = new Set<string>();
  for (const e of entries) {
    if (compareVersions(e.version, to) > 0) continue;
    if (from !== null && compareVersions(e.version, from) <= 0) continue;
    for (const id of cveIds(e.text)) ids.add(id);
  }
  return [...ids].sort();
}
