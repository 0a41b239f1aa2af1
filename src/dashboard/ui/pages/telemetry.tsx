import { useEffect, useState } from 'preact/hooks';
import { Badge, Facts, Host, Id, PageHeading, ScrollPre, Section } from '../components/bits.tsx';
import { namesOf, useAgents } from '../lib/agents.ts';
import { api, tpath } from '../lib/api.ts';
import { explain } from '../lib/errors.ts';
import { fmtTime } from '../lib/format.ts';
import { checkProof, type ProofCheck, type TelemetryProof } from '../lib/merkle.ts';
import { type PageProps, useReady } from '../lib/page.ts';
import { navigate, tenantHref } from '../lib/router.ts';

/** How an item id reads in a line: its batch shortened, then its index. */
function shortItem(itemId: string): string {
  const at = itemId.lastIndexOf(':');
  return `${itemId.slice(0, Math.min(at, 8))}…:${itemId.slice(at + 1)}`;
}

/** A link to the proof of one telemetry item, named `<batch>:<index>`. */
export function ProofLink({ tenant, itemId, label }: { tenant: string; itemId: string; label?: string }) {
  return (
    <a href={tenantHref(tenant, 'telemetry', itemId)} title={`Merkle inclusion proof of telemetry item ${itemId}`} data-proof-link={itemId}>
      {label ?? `proof ${shortItem(itemId)}`}
    </a>
  );
}

/** The form of an item id (src/telemetry/ids.ts). */
const ITEM_ID = /^[A-Za-z0-9_-]{1,64}:(0|[1-9][0-9]{0,3})$/;

/** One line about a telemetry item, whatever its kind. */
export function itemSummary(item: Record<string, unknown>): string {
  const s = (k: string) => (item[k] === null || item[k] === undefined ? '' : String(item[k]));
  switch (item.kind) {
    case 'process':
      return `process ${s('name')} (pid ${s('pid')}, ${s('user')}): ${s('cmdline') || s('exe')}`;
    case 'connection':
      return `${s('protocol')} ${s('state')} ${s('localAddress')}:${s('localPort')} → ${s('remoteAddress')}:${s('remotePort')}${item.exe ? ` by ${s('exe')}` : ''}`;
    case 'account-change':
      return `${s('source')} account ${s('account')}: ${s('change')}${item.group ? ` (${s('group')})` : ''}`;
    default:
      return String(item.kind ?? 'item');
  }
}

/** The check of a proof, as people read it. */
function CheckText({ check }: { check: ProofCheck | null }) {
  if (!check) return <span>Checking in this browser…</span>;
  if (check.ok === true)
    return (
      <span class="ok" data-proof="verified">
        Verified in this browser: the item hashes to its leaf, and the audit path leads to the Merkle root sealed in the ledger by the batch's event.
      </span>
    );
  if (check.ok === null)
    return (
      <span data-proof="unchecked">
        Not checked here: {check.reason}. Download the proof and check it with <code>stockade telemetry verify-proof</code>.
      </span>
    );
  return (
    <span class="error" data-proof="broken">
      The proof does not hold: {check.reason}.
    </span>
  );
}

/** Reads and checks the proof of telemetry item `itemId`. */
function useProof(tenant: string, itemId: string) {
  const [proof, setProof] = useState<TelemetryProof | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [check, setCheck] = useState<ProofCheck | null>(null);
  useEffect(() => {
    let gone = false;
    setProof(null);
    setError(null);
    setCheck(null);
    api
      .get<TelemetryProof>(tpath(tenant, 'telemetry', 'items', itemId, 'proof'))
      .then(async (p) => {
        if (gone) return;
        setProof(p);
        const c = await checkProof(p);
        if (!gone) setCheck(c);
      })
      .catch((err) => {
        if (!gone) setError(err);
      });
    return () => {
      gone = true;
    };
  }, [tenant, itemId]);
  return { proof, error, check };
}

/** A load failure as a sentence with its code. */
export function LoadError({ err, what }: { err: unknown; what: string }) {
  const e = explain(err);
  return (
    <p class="error" role="alert">
      Could not load {what}. {e.sentence} <code class="error-code">{e.code}</code>
    </p>
  );
}

/** The proof of one item, with its check: the whole of the proof page, and a section of other pages. */
export function ProofView({ tenant, itemId, names }: { tenant: string; itemId: string; names: Map<string, string> }) {
  const { proof, error, check } = useProof(tenant, itemId);
  if (error) return <LoadError err={error} what={`the proof of item ${itemId}`} />;
  if (!proof) return <p class="muted">Loading the proof…</p>;
  const file = `stockade-proof-${itemId.replace(':', '-')}.json`;
  return (
    <div class="proof" data-proof-of={itemId}>
      <p class="verify-result" role="status">
        <CheckText check={check} />
      </p>
      <Facts
        items={[
          ['Host', <Host key="h" tenant={tenant} agentId={proof.agentId} hostname={names.get(proof.agentId)} />],
          ['Item', itemSummary(proof.item)],
          ['Stored', fmtTime(proof.batch.at)],
          ['In its batch', `item ${proof.index + 1} of ${proof.size} (batch ${proof.batch.data.batchId})`],
          ['Leaf hash', <code key="l">{proof.leafHash}</code>],
          ['Merkle root', <code key="r">{proof.merkleRoot}</code>],
          ['Sealed by', <span key="s">{`event ${proof.batch.type} ${proof.batch.id}, ${fmtTime(proof.batch.at)}`}</span>],
        ]}
      />
      <h3>Audit path</h3>
      {proof.proof.length ? (
        <ol class="hashes">
          {proof.proof.map((h, i) => (
            <li key={`${i}-${h}`}>
              <code>{h}</code>
            </li>
          ))}
        </ol>
      ) : (
        <p class="muted">None: the item is the only one of its batch, its leaf is the root.</p>
      )}
      <h3>The item as the agent sent it</h3>
      <ScrollPre label="The item" kind="json">
        {JSON.stringify(proof.item, null, 2)}
      </ScrollPre>
      <p>
        <a href={api.href(tpath(tenant, 'telemetry', 'items', itemId, 'proof'))} download={file} class="button">
          Download the proof (JSON)
        </a>{' '}
        <span class="muted small">
          and check it anywhere with <code>stockade telemetry verify-proof {file}</code>
        </span>
      </p>
    </div>
  );
}

/** Telemetry proofs: one item's proof (`/telemetry/<batch>:<index>`), or a form asking for an item id. */
export function TelemetryPage(p: PageProps) {
  const agents = useAgents(p.tenant);
  const itemId = p.id && ITEM_ID.test(p.id) ? p.id : null;
  useReady(p.id === null || agents !== null);
  if (p.id !== null) {
    return (
      <>
        <PageHeading>
          Telemetry item {itemId ?? p.id} <Badge value="proof" />
        </PageHeading>
        {itemId === null ? (
          <p class="error">A telemetry item is named by its batch and its index in the batch: batch:index.</p>
        ) : agents ? (
          <Section title="Merkle inclusion proof">
            <ProofView tenant={p.tenant} itemId={itemId} names={namesOf(agents)} />
          </Section>
        ) : (
          <p class="muted">Loading…</p>
        )}
      </>
    );
  }
  return (
    <>
      <PageHeading>Telemetry proofs</PageHeading>
      <p>
        Every process, connection and account change an agent reports is a telemetry item, named by its batch and its place in that batch. Each batch of items
        is sealed in the ledger by its Merkle root, so any one item can be proven to be exactly what the agent sent. Lists of processes, connections and account
        changes link each row to its proof.
      </p>
      <form
        class="inline-form"
        aria-label="Prove a telemetry item"
        onSubmit={(ev) => {
          ev.preventDefault();
          const v = ((ev.currentTarget as HTMLFormElement).elements.namedItem('item') as HTMLInputElement).value.trim();
          navigate(tenantHref(p.tenant, 'telemetry', v));
        }}
      >
        <div class="field">
          <label for="proof-item">Item (batch:index)</label>
          <input id="proof-item" name="item" pattern="[A-Za-z0-9_\-]{1,64}:(0|[1-9][0-9]{0,3})" required autoComplete="off" />
        </div>
        <button type="submit" class="primary">
          Show its proof
        </button>
      </form>
    </>
  );
}

/** A short SHA-256 that filters a list by it. */
export function HashLink({ href, sha256 }: { href: string; sha256: string }) {
  return (
    <a href={href} title={`Everything with SHA-256 ${sha256}`}>
      <Id id={sha256} n={12} />
    </a>
  );
}
