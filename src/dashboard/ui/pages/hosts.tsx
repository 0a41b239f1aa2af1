import { useEffect, useState } from 'preact/hooks';
import { Badge, Facts, whoText } from '../components/bits.tsx';
import { ask } from '../components/dialog.tsx';
import { useAction } from '../lib/act.ts';
import { api, type ListPage, tpath } from '../lib/api.ts';
import { canDispatch, dispatch } from '../lib/commands.ts';
import { count, fmtTime } from '../lib/format.ts';
import { useLive } from '../lib/live.ts';
import { pageAllowed, pageSpec } from '../../page-list.ts';
import type { PageProps } from '../lib/page.ts';
import { tenantHref } from '../lib/router.ts';
import { LoadError } from './telemetry.tsx';

/** A host as `GET …/hosts/:agentId` gives it: isolation state and the agent's health reports. */
export interface HostDoc {
  id: string;
  hostname: string;
  isolation: 'isolated' | 'not-isolated';
  isolationChangedAt: string | null;
  isolationBy: string | null;
  isolationByName?: string | null;
  isolationCommandId: string | null;
  pendingIsolation: 'isolate-host' | 'release-host' | null;
  isolationError: string | null;
  health: {
    lastEvent: string | null;
    lastEventAt: string | null;
    startedAt: string | null;
    stoppedAt: string | null;
    agentVersion: string | null;
    skewSeconds: number | null;
    spool: { pendingBatches: number; pendingItems: number; diskBytes: number; droppedBatches: number; droppedItems: number } | null;
  };
}

/** Isolated hosts read for the agents list (there are few): at most this many pages of 200. */
const ISOLATED_PAGES = 5;

/**
 * The customer's isolated hosts, by agent id, for the agents list: one read of the isolated ones
 * rather than one per row. Read again when a command or an agent changes (an isolation result is a
 * command's completion).
 */
export function useIsolated(tenant: string): Map<string, HostDoc> | null {
  const [hosts, setHosts] = useState<Map<string, HostDoc> | null>(null);
  const load = async (waitFor?: string) => {
    const out = new Map<string, HostDoc>();
    let cursor: string | null = null;
    try {
      for (let i = 0; i < ISOLATED_PAGES; i++) {
        const page: ListPage<HostDoc> = await api.get(tpath(tenant, 'hosts'), {
          isolation: 'isolated',
          limit: 200,
          ...(cursor ? { cursor } : {}),
          ...(waitFor && i === 0 ? { waitFor } : {}),
        });
        for (const h of page.items) out.set(h.id, h);
        cursor = page.nextCursor;
        if (!cursor) break;
      }
      setHosts(out);
    } catch {
      setHosts((h) => h ?? new Map());
    }
  };
  useEffect(() => {
    void load();
  }, [tenant]);
  useLive(['command', 'agent'], (_c, token) => void load(token));
  return hosts;
}

/** Isolate or release, with a confirmation and a reason. */
export function IsolationButton(p: {
  page: Pick<PageProps, 'tenant' | 'session' | 'tenantDoc' | 'can'>;
  agentId: string;
  hostname: string;
  isolated: boolean;
}) {
  const action = p.isolated ? 'release-host' : 'isolate-host';
  const run = useAction(async () => {
    const v = await ask(
      p.isolated ? `Release ${p.hostname}?` : `Isolate ${p.hostname}?`,
      [{ name: 'reason', label: 'Reason', maxLength: 500, required: !p.isolated, value: p.isolated ? 'released by an operator' : '' }],
      {
        text: p.isolated
          ? 'The agent removes its isolation table: the host reaches the network again.'
          : 'The agent cuts the host off the network except for the Stockade ingress, so it keeps reporting and taking commands.',
        confirm: p.isolated ? 'Release host' : 'Isolate host',
        danger: !p.isolated,
      },
    );
    if (!v) return;
    await dispatch(p.page.tenant, p.agentId, action, v.reason ? { reason: v.reason } : {}, `${p.isolated ? 'Release' : 'Isolate'} ${p.hostname}`);
  });
  if (!canDispatch(p.page, action)) return null;
  return (
    <button type="button" class={p.isolated ? undefined : 'danger'} disabled={run.busy} onClick={() => void run.run()}>
      {p.isolated ? 'Release' : 'Isolate'}
    </button>
  );
}

/** The isolation state as a badge. */
export function IsolationBadge({ host }: { host: Pick<HostDoc, 'isolation' | 'pendingIsolation'> | null | undefined }) {
  if (host?.pendingIsolation === 'isolate-host') return <Badge value="isolating" />;
  if (host?.pendingIsolation === 'release-host') return <Badge value="releasing" />;
  return <Badge value={host?.isolation === 'isolated' ? 'isolated' : 'not-isolated'} />;
}

/** Whether the customer has a page (its product on). */
export function hasPage(p: Pick<PageProps, 'tenantDoc'>, name: string): boolean {
  const spec = pageSpec('tenant', name);
  return spec !== undefined && p.tenantDoc !== null && pageAllowed(spec, p.tenantDoc.products);
}

/** The host section of an agent's page: isolation (with Isolate / Release), the agent's health, and its telemetry. */
export function HostSection(p: PageProps & { agentId: string; hostname: string; active: boolean }) {
  const [h, setH] = useState<HostDoc | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = async (waitFor?: string) => {
    try {
      setH(await api.get<HostDoc>(tpath(p.tenant, 'hosts', p.agentId), waitFor ? { waitFor } : {}));
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => {
    void load();
  }, [p.agentId]);
  useLive(['command', 'agent'], (_c, token) => void load(token));
  const links = [
    hasPage(p, 'processes') ? ['Processes', tenantHref(p.tenant, 'processes', undefined, { agentId: p.agentId })] : null,
    hasPage(p, 'connections') ? ['Connections', tenantHref(p.tenant, 'connections', undefined, { agentId: p.agentId })] : null,
    hasPage(p, 'identities') ? ['Accounts', tenantHref(p.tenant, 'identities', undefined, { agentId: p.agentId })] : null,
  ].filter((x): x is [string, string] => x !== null);
  return (
    <section class="card" id="host" aria-label="Host">
      <h2>Host</h2>
      {error ? <LoadError err={error} what="the host's state" /> : null}
      {h ? (
        <>
          <p class="host-state" data-isolation={h.pendingIsolation ?? h.isolation}>
            Network: <IsolationBadge host={h} />{' '}
            {h.isolation === 'isolated'
              ? `isolated since ${fmtTime(h.isolationChangedAt)} by ${h.isolationBy ? whoText(h.isolationBy, h.isolationByName) : 'an operator'}: only the Stockade ingress is reachable.`
              : h.isolationChangedAt
                ? `released ${fmtTime(h.isolationChangedAt)} by ${h.isolationBy ? whoText(h.isolationBy, h.isolationByName) : 'an operator'}.`
                : 'never isolated.'}
            {h.pendingIsolation ? ' The agent has not answered the last request yet.' : ''}
          </p>
          {h.isolationError ? (
            <p class="error">
              The last isolation command failed on the host: <code>{h.isolationError}</code>
            </p>
          ) : null}
          {p.active ? (
            <div class="toolbar">
              <IsolationButton page={p} agentId={p.agentId} hostname={p.hostname} isolated={h.isolation === 'isolated'} />
              {h.isolationCommandId ? <a href={tenantHref(p.tenant, 'commands', h.isolationCommandId)}>The isolation command</a> : null}
            </div>
          ) : null}
          <Facts
            items={[
              ['Agent', h.health.lastEvent ? `${h.health.lastEvent} at ${fmtTime(h.health.lastEventAt)}` : 'no health report yet'],
              ['Agent started', fmtTime(h.health.startedAt)],
              h.health.stoppedAt ? ['Agent stopped', fmtTime(h.health.stoppedAt)] : null,
              ['Agent version', h.health.agentVersion ?? '—'],
              ['Clock skew', h.health.skewSeconds === null ? '—' : `${h.health.skewSeconds} s`],
              h.health.spool
                ? [
                    'Spool',
                    `${count(h.health.spool.pendingItems)} items (${count(h.health.spool.diskBytes)} bytes on disk) waiting${h.health.spool.droppedItems ? `, ${count(h.health.spool.droppedItems)} dropped` : ''}`,
                  ]
                : null,
            ]}
          />
        </>
      ) : error ? null : (
        <p class="muted">Loading…</p>
      )}
      {links.length ? (
        <p>
          {links.map(([label, href], i) => (
            <span key={href}>
              {i ? ' · ' : ''}
              <a href={href}>
                {label} on {p.hostname}
              </a>
            </span>
          ))}
        </p>
      ) : null}
    </section>
  );
}
