import type { KeyObject } from 'node:crypto';
import { StkError } from '../errors.ts';
import type { Streams } from '../log/mod.ts';
import type { Logger } from '../logger.ts';
import { KEYS_SUBJECT, LEDGER_STREAM, keyRecordSignedText, type KeyRecord } from './format.ts';
import { publicKeyOfRecord, verifyText, type Keyring } from './keys.ts';
import { ledgerUnavailable } from './stream.ts';

/** A record of `ledger-keys` and whether it belongs to the trusted run of keys. */
export interface ReadKeyRecord {
  record: KeyRecord;
  seq: number;
  /** Signed by the trusted key before it (the first: by itself); only these keys may sign blocks. */
  trusted: boolean;
  key: KeyObject | null;
}

/**
 * Reads `ledger-keys` and marks the trusted run: the first well-formed self-signed record, then
 * each record endorsed by the trusted one before it. Anything else (unparsable, not endorsed) is
 * kept in the list, untrusted, so a stray message can neither add a key nor block the ledger.
 */
export async function readKeyRecords(streams: Streams): Promise<ReadKeyRecord[]> {
  const out: ReadKeyRecord[] = [];
  let prev: { record: KeyRecord; key: KeyObject } | null = null;
  for await (const m of streams.scan(LEDGER_STREAM, { filter: KEYS_SUBJECT })) {
    let record: KeyRecord;
    try {
      record = JSON.parse(new TextDecoder().decode(m.data)) as KeyRecord;
      if (!record || typeof record.keyId !== 'string' || typeof record.sig !== 'string') continue;
    } catch {
      continue;
    }
    const key = publicKeyOfRecord(record);
    const endorser = prev ? prev.key : key;
    const trusted = !!key && !!endorser && record.prevKeyId === (prev?.record.keyId ?? null) && verifyText(endorser, keyRecordSignedText(record), record.sig);
    out.push({ record, seq: m.seq, trusted, key });
    if (trusted) prev = { record, key: key! };
  }
  return out;
}

/**
 * Publishes the keyring's records that LEDGER lacks, after the trusted ones already there, which
 * must be the start of ours: a trusted key this keyring does not have means another keyring
 * signs this ledger, and the sealer refuses to sign beside it.
 */
export async function publishKeyRecords(streams: Streams, keyring: Keyring, log: Logger): Promise<void> {
  const stored = await readKeyRecords(streams);
  const trusted = stored.filter((s) => s.trusted);
  for (const s of stored)
    if (!s.trusted) log.warn({ keyId: s.record.keyId, ledgerSeq: s.seq }, 'ignoring a key record that is not endorsed by the ledger key before it');
  const ours = keyring.records;
  for (let i = 0; i < trusted.length; i++) {
    if (ours[i]?.keyId !== trusted[i]!.record.keyId) {
      throw new StkError(
        'STK_ERR_LEDGER_FOREIGN_HEAD',
        `${KEYS_SUBJECT} holds key ${trusted[i]!.record.keyId}, which this sealer's keyring does not have at that place`,
        { keyId: trusted[i]!.record.keyId },
      );
    }
  }
  let lastSeq = stored[stored.length - 1]?.seq ?? 0;
  for (const r of ours.slice(trusted.length)) {
    try {
      const ack = await streams.publish(KEYS_SUBJECT, new TextEncoder().encode(JSON.stringify(r)), {
        msgId: `key:${r.keyId}`,
        expectedLastSubjectSequence: lastSeq,
      });
      lastSeq = ack.seq;
      log.info({ keyId: r.keyId, prevKeyId: r.prevKeyId }, 'ledger key recorded');
    } catch (err) {
      throw ledgerUnavailable(err, `cannot record ledger key ${r.keyId}`);
    }
  }
}
