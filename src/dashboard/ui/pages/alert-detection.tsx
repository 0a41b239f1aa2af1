import { useEffect, useState } from 'preact/hooks';
import { Facts, ScrollBox, Section } from '../components/bits.tsx';
import { api, tpath } from '../lib/api.ts';
import { explain } from '../lib/errors.ts';
import { fmtTime } from '../lib/format.ts';
import type { TelemetryProof } from '../lib/merkle.ts';
import type { PageProps } from '../lib/page.ts';
import { tenantHref } from '../lib/router.ts';
import { hasPage } from './hosts.tsx';
import { Techniques } from './rules.tsx';
import { itemSummary, ProofLink } from './telemetry.tsx';

/** What the detector adds to an alert (projections/alerts): the rule, its group, the matching messages. */
export interface Detection {
  rule: string;
  count?: number;
  firstSeenAt?: string;
  lastSeenAt?: string;
  ruleVersion?: string | null;
  overrideVersion?: string | null;
  attack?: string[];
  tags?: string[];
  logsource?: string | null;
  groupKey?: string | null;
  refs?: Array<{ stream: 'TELEMETRY' | 'EVENTS'; item?: string }>;
}

/** Telemetry items read to describe an alert's matches; the rest are listed by number with their proof. */
const ITEMS_SHOWN = 10;

/** One matching telemetry item: what it was, read from its proof. */
function RefRow({ tenant, itemId, read }: { tenant: string; itemId: string; read: boolean }) {
  const [text, setText] = useState<string | null>(null);
  useEffect(() => {
    if (!read) return;
    let gone = false;
    api
      .get<TelemetryProof>(tpath(tenant, 'telemetry', 'items', itemId, 'proof'))
      .then((p) => !gone && setText(itemSummary(p.item)))
      .catch((err) => !gone && setText(`${explain(err).sentence} (${explain(err).code})`));
    return () => {
      gone = true;
    };
  }, [tenant, itemId, read]);
  return (
    <tr data-ref={itemId}>
      <td>
        <ProofLink tenant={tenant} itemId={itemId} label={itemId} />
      </td>
      <td>{read ? (text ?? 'Loading…') : <span class="muted">see its proof</span>}</td>
    </tr>
  );
}

/**
 * The detection section of an alert's page: rule and version, ATT&CK ids, occurrences and last
 * seen, and the telemetry that matched, each item linked to its Merkle proof.
 */
export function AlertDetection({ page: p, alert: a }: { page: PageProps; alert: Detection & { title: string } }) {
  const refs = a.refs ?? [];
  const detected = Boolean(a.ruleVersion) || refs.length > 0;
  if (!detected) return null;
  // Items are named by batch and index; an alert raised before they were has no name to prove them by.
  const telemetry = refs.filter((r): r is { stream: 'TELEMETRY'; item: string } => r.stream === 'TELEMETRY' && typeof r.item === 'string');
  const events = refs.filter((r) => r.stream === 'EVENTS');
  const provable = hasPage(p, 'telemetry') && p.can('telemetry.read');
  return (
    <>
      <Section title="Detection">
        <Facts
          items={[
            [
              'Rule',
              <span key="r">
                <a href={tenantHref(p.tenant, 'rules', a.rule)}>{a.title}</a> <code class="small">{a.rule}</code>
              </span>,
            ],
            ['Rule version', a.ruleVersion ? <code key="v">{a.ruleVersion}</code> : '—'],
            a.overrideVersion ? ['Customer setting in force', <code key="o">{a.overrideVersion}</code>] : null,
            ['ATT&CK', <Techniques key="t" ids={a.attack ?? []} />],
            a.logsource ? ['Log source', <code key="l">{a.logsource}</code>] : null,
            [
              'Occurrences',
              <span key="c" data-field="count">
                {String(a.count ?? 1)}
              </span>,
            ],
            ['First seen', fmtTime(a.firstSeenAt)],
            [
              'Last seen',
              <span key="ls" data-field="last-seen">
                {fmtTime(a.lastSeenAt)}
              </span>,
            ],
          ]}
        />
        <p class="muted small">
          The same rule on the same host within the rule's window updates this alert (its count and last seen) instead of raising another one.
        </p>
      </Section>
      <Section title="The telemetry behind it">
        {telemetry.length ? (
          <>
            <p class="muted small">
              {telemetry.length === 1 ? 'The item' : `The ${telemetry.length} items`} that matched, as the agent sent {telemetry.length === 1 ? 'it' : 'them'}
              {provable ? ': each links to the proof that it is in a batch sealed in the ledger.' : '.'}
            </p>
            <ScrollBox label="Matching telemetry">
              <table data-table="alert-telemetry">
                <thead>
                  <tr>
                    <th scope="col">Item</th>
                    <th scope="col">What</th>
                  </tr>
                </thead>
                <tbody>
                  {telemetry.map((r, i) => (
                    <RefRow key={r.item} tenant={p.tenant} itemId={r.item} read={provable && i < ITEMS_SHOWN} />
                  ))}
                </tbody>
              </table>
            </ScrollBox>
          </>
        ) : null}
        {events.length ? (
          <p>
            {events.length === 1 ? 'One agent event' : `${events.length} agent events`} matched: {events.length === 1 ? 'it is' : 'they are'} in this customer's
            event log, sealed in the ledger as {events.length === 1 ? 'it is' : 'they are'}.
          </p>
        ) : null}
        {!telemetry.length && !events.length ? <p class="empty">The detector kept no reference for this alert.</p> : null}
      </Section>
    </>
  );
}
