import type { KeyObject } from 'node:crypto';
import type { Streams } from '../log/mod.ts';
import { readKeyRecords } from './keyrecords.ts';

/**
 * A trusted ledger key and the window in which it may sign: from its own key record to the
 * record of the key that replaced it, both by LEDGER position (which the server assigns, so a
 * thief of a retired key cannot place a block before the rotation) and by time (`sealedAt` of a
 * block, which an export carries without positions).
 */
export interface KeyWindow {
  keyId: string;
  key: KeyObject;
  /** LEDGER sequence of the key's record; it signs nothing stored before. */
  fromSeq: number;
  /** LEDGER sequence of the next key's record; it signs nothing stored from there on. */
  toSeq: number;
  fromAt: string;
  /** `at` of the next key's record, or null while the key is current. */
  toAt: string | null;
}

/** The key records of LEDGER as verify reports them. */
export interface KeyReport {
  keyId: string;
  prevKeyId: string | null;
  at: string;
  trusted: boolean;
  /** When the key stopped signing (the next key's record), null while current. */
  retiredAt: string | null;
}

/** Reads `ledger-keys`: the report of every record and the windows of the trusted run. */
export async function loadKeyWindows(streams: Streams): Promise<{ report: KeyReport[]; windows: Map<string, KeyWindow> }> {
  const records = await readKeyRecords(streams);
  const trusted = records.filter((r) => r.trusted);
  const windows = new Map<string, KeyWindow>();
  trusted.forEach((r, i) => {
    const next = trusted[i + 1];
    windows.set(r.record.keyId, {
      keyId: r.record.keyId,
      key: r.key!,
      fromSeq: r.seq,
      toSeq: next ? next.seq : Number.POSITIVE_INFINITY,
      fromAt: r.record.at,
      toAt: next ? next.record.at : null,
    });
  });
  const report = records.map((r) => ({
    keyId: r.record.keyId,
    prevKeyId: r.record.prevKeyId,
    at: r.record.at,
    trusted: r.trusted,
    retiredAt: windows.get(r.record.keyId)?.toAt ?? null,
  }));
  return { report, windows };
}

/** Why a key may not sign what is stored at `ledgerSeq` at `at`; null when it may. */
export function outsideWindow(w: KeyWindow, ledgerSeq: number, at: string | null): string | null {
  if (ledgerSeq < w.fromSeq) return `key ${w.keyId} signs from LEDGER seq ${w.fromSeq} (its key record) on, and this is stored at ${ledgerSeq}`;
  if (ledgerSeq >= w.toSeq) return `key ${w.keyId} was retired at LEDGER seq ${w.toSeq} (${w.toAt}), and this is stored at ${ledgerSeq}`;
  if (at !== null && (at < w.fromAt || (w.toAt !== null && at >= w.toAt)))
    return `key ${w.keyId} signs from ${w.fromAt}${w.toAt ? ` until ${w.toAt}` : ''}, and this says it was signed at ${at}`;
  return null;
}
