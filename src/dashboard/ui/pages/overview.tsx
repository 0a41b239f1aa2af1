import { useEffect, useState } from 'preact/hooks';
import { Ago, Badge, Host, PageHeading, Section } from '../components/bits.tsx';
import { Chart } from '../components/chart.tsx';
import { api, type ListPage, tpath } from '../lib/api.ts';
import { count } from '../lib/format.ts';
import { useLive } from '../lib/live.ts';
import { notifyError } from '../lib/notices.tsx';
import { type PageProps, useReady } from '../lib/page.ts';
import { tenantHref } from '../lib/router.ts';
import type { Alert } from './alerts.tsx';

interface Overview {
  agents: { online: number; offline: number; revoked: number };
  alerts: { open: number; acknowledged: number; resolved: number };
  openAlertsBySeverity?: Record<string, number>;
  incidents: Record<string, number>;
  findings?: Record<string, number>;
}

interface Stats {
  hours: string[];
  alertsByHour: Record<string, number[]>;
  agentsByHour: number[];
  topRules: Array<{ rule: string; count: number }>;
  topHosts: Array<{ agentId: string; hostname: string | null; count: number }>;
}

interface Ledger {
  height: number;
  lag: { events: number; seconds: number };
}

const SEVERITY_COLORS: Record<string, string> = { low: '#6b7d93', medium: '#b07d00', high: '#c2570c', critical: '#b42318' };
const FINDING_STATES = ['open', 'accepted-risk', 'remediated', 'false-positive'];

function Stat({ label, value, href, name }: { label: string; value: string; href: string; name: string }) {
  return (
    <a class="stat" href={href} data-stat={name}>
      <span class="value">{value}</span>
      <span class="label">{label}</span>
    </a>
  );
}

function hourLabel(iso: string, days: number): string {
  return days > 1 ? `${iso.slice(5, 10)} ${iso.slice(11, 13)}h` : `${iso.slice(11, 13)}:00`;
}

export function OverviewPage(p: PageProps) {
  const [o, setO] = useState<Overview | null>(null);
  const [latest, setLatest] = useState<Alert[]>([]);
  const [ledger, setLedger] = useState<Ledger | null>(null);
  const [stats, setStats] = useState<Stats | null>(null);
  const [days, setDays] = useState(7);
  const doc = p.tenantDoc!;
  const load = async (waitFor?: string) => {
    const w = waitFor ? { waitFor } : {};
    try {
      const [ov, al] = await Promise.all([
        api.get<Overview>(tpath(p.tenant, 'overview'), w),
        api.get<ListPage<Alert>>(tpath(p.tenant, 'alerts'), { status: 'open', limit: 5, ...w }),
      ]);
      setO(ov);
      setLatest(al.items);
    } catch (err) {
      notifyError(err, () => void load(waitFor));
    }
    api.get<Ledger>(tpath(p.tenant, 'ledger')).then(setLedger, () => setLedger(null));
  };
  const loadStats = async (waitFor?: string) => {
    try {
      setStats(await api.get<Stats>(tpath(p.tenant, 'stats'), { days, ...(waitFor ? { waitFor } : {}) }));
    } catch (err) {
      notifyError(err, () => void loadStats(waitFor));
    }
  };
  useEffect(() => {
    void load();
  }, []);
  useEffect(() => {
    void loadStats();
  }, [days]);
  useLive(['alert', 'agent', 'incident', 'finding'], (_c, token) => {
    void load(token);
    void loadStats(token);
  });
  useReady(o !== null);
  const base = (page: string, q?: Record<string, string>) => tenantHref(p.tenant, page, undefined, q);
  const openIncidents = o ? (o.incidents.open ?? 0) + (o.incidents.investigating ?? 0) + (o.incidents.contained ?? 0) : 0;
  return (
    <>
      <PageHeading>
        <span class="tenant-title">{doc.name}</span>
        {doc.suspended ? <Badge value="suspended" /> : null}
      </PageHeading>
      {o ? (
        <div class="stats">
          <Stat label="agents online" value={`${count(o.agents.online)} / ${count(o.agents.online + o.agents.offline)}`} href={base('agents')} name="agents" />
          <Stat label="open alerts" value={count(o.alerts.open)} href={base('alerts')} name="alerts" />
          <Stat label="open incidents" value={count(openIncidents)} href={base('incidents')} name="incidents" />
          {ledger ? (
            <Stat
              label={ledger.lag.events ? `ledger: ${count(ledger.lag.events)} unsealed` : 'ledger: all sealed'}
              value={`height ${count(ledger.height)}`}
              href={base('ledger')}
              name="ledger"
            />
          ) : null}
        </div>
      ) : (
        <p class="muted">Loading…</p>
      )}
      <div class="grid-2">
        {o?.findings ? (
          <Section title="Findings by state">
            <dl class="kv">
              {FINDING_STATES.flatMap((s) => [
                <dt key={`t${s}`}>
                  <a href={base('findings', { state: s })}>{s}</a>
                </dt>,
                <dd key={`d${s}`} data-state={s}>
                  {count(o.findings?.[s] ?? 0)}
                </dd>,
              ])}
            </dl>
          </Section>
        ) : null}
        <Section title="Latest open alerts">
          {latest.length ? (
            <ul class="plain">
              {latest.map((a) => (
                <li key={a.id}>
                  <Badge value={a.severity} /> <a href={tenantHref(p.tenant, 'alerts', a.id)}>{a.title}</a>
                  <span class="muted">
                    {' · '}
                    <Host tenant={p.tenant} agentId={a.agentId} hostname={a.hostname} /> · <Ago at={a.raisedAt} />
                  </span>
                </li>
              ))}
            </ul>
          ) : (
            <p class="empty">No open alerts.</p>
          )}
        </Section>
      </div>
      <section class="card charts" aria-label="Charts">
        <div class="chart-head">
          <h2>Activity</h2>
          <div class="field inline">
            <label for="chart-days">Period</label>
            <select id="chart-days" value={String(days)} onChange={(ev) => setDays(Number((ev.currentTarget as HTMLSelectElement).value))}>
              <option value="1">last 24 hours</option>
              <option value="7">last 7 days</option>
              <option value="30">last 30 days</option>
            </select>
          </div>
        </div>
        {stats ? (
          <div class="chart-grid">
            <Chart
              title="Alerts over time by severity"
              summary={`${count(Object.values(stats.alertsByHour).reduce((n, xs) => n + xs.reduce((a, b) => a + b, 0), 0))} alerts in the period`}
              spec={{
                kind: 'bar',
                stacked: true,
                labels: stats.hours.map((h) => hourLabel(h, days)),
                series: ['low', 'medium', 'high', 'critical'].map((s) => ({ label: s, data: stats.alertsByHour[s] ?? [], color: SEVERITY_COLORS[s]! })),
              }}
            />
            <Chart
              title="Agents online over time"
              summary={`at most ${Math.max(0, ...stats.agentsByHour)} agents heard from in one hour`}
              spec={{
                kind: 'line',
                labels: stats.hours.map((h) => hourLabel(h, days)),
                series: [{ label: 'agents heard from', data: stats.agentsByHour, color: '#1f5fbf' }],
              }}
            />
            <Chart
              title="Top rules (alerts in the period)"
              summary={stats.topRules.map((r) => `${r.rule}: ${r.count}`).join(', ') || 'none'}
              spec={{
                kind: 'hbar',
                labels: stats.topRules.map((r) => r.rule),
                series: [{ label: 'alerts', data: stats.topRules.map((r) => r.count), color: '#c2570c' }],
              }}
            />
            <Chart
              title="Top hosts (alerts in the period)"
              summary={stats.topHosts.map((h) => `${h.hostname ?? h.agentId}: ${h.count}`).join(', ') || 'none'}
              spec={{
                kind: 'hbar',
                labels: stats.topHosts.map((h) => h.hostname ?? h.agentId),
                series: [{ label: 'alerts', data: stats.topHosts.map((h) => h.count), color: '#1f5fbf' }],
              }}
            />
            {o?.findings ? (
              <Chart
                title="Findings by state"
                summary={FINDING_STATES.map((s) => `${s}: ${o.findings?.[s] ?? 0}`).join(', ')}
                spec={{
                  kind: 'hbar',
                  labels: FINDING_STATES,
                  series: [{ label: 'findings', data: FINDING_STATES.map((s) => o.findings?.[s] ?? 0), color: '#18794e' }],
                }}
              />
            ) : null}
          </div>
        ) : (
          <p class="muted">Loading charts…</p>
        )}
      </section>
    </>
  );
}
