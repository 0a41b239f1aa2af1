import { useEffect, useState } from 'preact/hooks';
import { Badge, Facts, PageHeading, ScrollBox, Section, whoText } from '../components/bits.tsx';
import { collectIds, DataList, type Selection } from '../components/data-list.tsx';
import { ask } from '../components/dialog.tsx';
import { useAction } from '../lib/act.ts';
import { api, request, tpath } from '../lib/api.ts';
import { count, fmtTime, plural } from '../lib/format.ts';
import { useLive } from '../lib/live.ts';
import { notify } from '../lib/notices.tsx';
import { type PageProps, useReady } from '../lib/page.ts';
import { navigate, tenantHref, useWhere } from '../lib/router.ts';
import { type Channel, ChannelFields, channelBody } from './channel-form.tsx';
import { LoadError } from './telemetry.tsx';

/** A message to a channel and its attempts (`GET …/notifications/deliveries`). */
interface Delivery {
  id: string;
  alertId: string;
  channelId: string;
  channelKind: string;
  channelName: string;
  recipients: string[];
  group: { title: string; severity: string; count: number; host: string; attack: string[]; ruleId: string };
  notifiedCount: number;
  status: 'pending' | 'delivered' | 'dead-letter';
  queuedAt: string;
  attempts: Array<{
    attempt: number;
    at: string;
    outcome: string;
    reason: string | null;
    status: number | null;
    detail: string | null;
    retryAt: string | null;
    deadLetter: string | null;
  }>;
  attemptCount: number;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  deadLetter: string | null;
  deadLetteredAt: string | null;
  requeuedAt: string | null;
  requeuedBy: string | null;
}

/** Why a message was given up, in words. */
const DEAD_TEXT: Record<string, string> = {
  'permanent-failure': 'the receiver refused it for good',
  'max-attempts': 'every attempt failed',
  'max-age': 'too old to try again',
  'channel-removed': 'the channel was removed',
  'channel-disabled': 'the channel was turned off',
  'secret-unreadable': "the channel's secrets could not be opened",
};

/** What a channel sends to, as people read it. */
function target(c: Channel): string {
  if (c.kind === 'email') return `${(c.settings.to ?? []).join(', ')} via ${c.settings.host}:${c.settings.port}`;
  return c.settings.host;
}

function quietText(c: Channel): string {
  const q = c.routing.quietHours;
  if (!q) return 'none';
  return `${q.windows.map((w) => `${w.days.join(' ')} ${w.start}–${w.end}`).join('; ')} (${q.timeZone})`;
}

/** The generated webhook secret, shown this once. */
function OnceSecret({ secret, onDone }: { secret: string; onDone: () => void }) {
  return (
    <div class="once" data-once role="status">
      <p>
        <strong>The webhook's signing secret, shown this once.</strong> Give it to the receiver: it checks the <code>Stockade-Signature</code> header of every
        message with it. Stockade keeps it sealed and never shows it again.
      </p>
      <div class="copyrow">
        <label class="sr" for="once-secret">
          Signing secret
        </label>
        <input id="once-secret" class="secret" readOnly value={secret} />
        <button type="button" onClick={() => void navigator.clipboard?.writeText(secret).then(() => notify('Copied'))}>
          Copy
        </button>
        <button type="button" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}

/** The form of a new channel, or to replace one. */
function ChannelForm(p: { tenant: string; channel: Channel | null; saved: (c: Channel & { consistencyToken: string; generatedSecret?: string }) => void }) {
  const [windows, setWindows] = useState(p.channel?.routing.quietHours?.windows.length ?? 1);
  const [problem, setProblem] = useState<string | null>(null);
  const save = useAction(async (form: HTMLFormElement) => {
    setProblem(null);
    const b = channelBody(form, windows);
    if ('error' in b) {
      setProblem(b.error);
      (form.elements.namedItem(b.field) as HTMLElement | null)?.focus();
      return;
    }
    const out = p.channel
      ? await api.put<Channel & { consistencyToken: string; generatedSecret?: string }>(tpath(p.tenant, 'notifications', 'channels', p.channel.id), b.body)
      : await api.post<Channel & { consistencyToken: string; generatedSecret?: string }>(tpath(p.tenant, 'notifications', 'channels'), b.body);
    notify(p.channel ? `${out.name}: saved` : `${out.name}: channel added`);
    p.saved(out);
  });
  return (
    <form
      class="channel-form"
      aria-label={p.channel ? 'Change this channel' : 'Add a channel'}
      onSubmit={(ev) => {
        ev.preventDefault();
        const form = ev.currentTarget as HTMLFormElement;
        if (form.reportValidity()) void save.run(form);
      }}
    >
      <ChannelFields channel={p.channel} onWindows={setWindows} />
      {problem ? (
        <p class="error" role="alert">
          {problem}
        </p>
      ) : null}
      <button type="submit" class="primary" disabled={save.busy}>
        {p.channel ? 'Save channel' : 'Add channel'}
      </button>
    </form>
  );
}

/** Sends dead letters back to the outbox, one call each. */
function RetryButton({
  tenant,
  ids,
  after,
  label,
}: {
  tenant: string;
  /** The messages to retry; `more`: the selection went past what one retry takes (the first ones were taken). */
  ids: () => Promise<{ ids: string[]; more: boolean }> | { ids: string[]; more: boolean };
  after: (token?: string) => void;
  label: string;
}) {
  const retry = useAction(async () => {
    let token = '';
    const { ids: all, more } = await ids();
    for (const id of all) token = (await api.post<{ consistencyToken: string }>(tpath(tenant, 'notifications', 'deliveries', id, 'retry'))).consistencyToken;
    notify(
      `${plural(all.length, 'message')} sent back for a new round of attempts${more ? `: only the first ${count(all.length)} of the selection; retry again for the rest` : ''}`,
    );
    after(token);
  });
  return (
    <button type="button" disabled={retry.busy} onClick={() => void retry.run()}>
      {label}
    </button>
  );
}

/** Columns of message lists. */
function deliveryColumns(p: { tenant: string; manage: boolean; channel: boolean }) {
  return (refresh: (token?: string) => void) => [
    { label: 'Queued', cell: (d: Delivery) => <time dateTime={d.queuedAt}>{fmtTime(d.queuedAt)}</time> },
    {
      label: 'Alert',
      cell: (d: Delivery) => (
        <span>
          <Badge value={d.group.severity} /> <a href={tenantHref(p.tenant, 'alerts', d.alertId)}>{d.group.title}</a>{' '}
          <span class="muted small">
            on {d.group.host}, count {d.group.count}
          </span>
        </span>
      ),
    },
    ...(p.channel ? [{ label: 'Channel', cell: (d: Delivery) => <a href={tenantHref(p.tenant, 'channels', d.channelId)}>{d.channelName}</a> }] : []),
    { label: 'To', cell: (d: Delivery) => d.recipients.join(', ') },
    {
      label: 'Status',
      cell: (d: Delivery) => (
        <span>
          <Badge value={d.status} />
          {d.deadLetter ? <span class="block small">{DEAD_TEXT[d.deadLetter] ?? d.deadLetter}</span> : null}
          {d.status === 'pending' && d.nextAttemptAt ? <span class="block small muted">next attempt {fmtTime(d.nextAttemptAt)}</span> : null}
          {d.deliveredAt ? <span class="block small muted">{fmtTime(d.deliveredAt)}</span> : null}
        </span>
      ),
    },
    {
      label: 'Attempts',
      cell: (d: Delivery) =>
        d.attempts.length ? (
          <details>
            <summary>
              {plural(d.attemptCount, 'attempt')}: {d.attempts.at(-1)!.outcome}
              {d.attempts.at(-1)!.status ? ` ${d.attempts.at(-1)!.status}` : ''}
            </summary>
            <ol class="attempts">
              {d.attempts.map((a) => (
                <li key={a.attempt}>
                  {fmtTime(a.at)}: {a.outcome}
                  {a.reason ? `, ${a.reason}` : ''}
                  {a.status ? ` (${a.status})` : ''}
                  {a.detail ? ` — ${a.detail}` : ''}
                </li>
              ))}
            </ol>
          </details>
        ) : (
          <span class="muted">none yet</span>
        ),
    },
    ...(p.manage
      ? [
          {
            label: 'Actions',
            cell: (d: Delivery) =>
              d.status === 'dead-letter' ? <RetryButton tenant={p.tenant} ids={() => ({ ids: [d.id], more: false })} after={refresh} label="Retry" /> : '',
          },
        ]
      : []),
  ];
}

/** Reads the customer's channels, again when they change. */
function useChannels(tenant: string) {
  const [channels, setChannels] = useState<Channel[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = async (waitFor?: string) => {
    try {
      setChannels((await api.get<{ items: Channel[] }>(tpath(tenant, 'notifications', 'channels'), waitFor ? { waitFor } : {})).items);
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => {
    void load();
  }, [tenant]);
  useLive(['notify'], (_c, token) => void load(token));
  return { channels, error, load };
}

const VIEWS: Array<[string, string]> = [
  ['channels', 'Channels'],
  ['messages', 'Messages'],
  ['dead-letters', 'Dead letters'],
];

export function ChannelsPage(p: PageProps) {
  if (p.id) return <ChannelDetail {...p} id={p.id} />;
  return <ChannelList {...p} />;
}

function ChannelList(p: PageProps) {
  const where = useWhere();
  const view = where.query.get('view') ?? 'channels';
  const { channels, error, load } = useChannels(p.tenant);
  const [secret, setSecret] = useState<string | null>(null);
  // A fresh form after each new channel: what was typed (a URL, a secret, a password) does not stay on the page.
  const [formKey, setFormKey] = useState(0);
  const manage = p.can('notifications.manage');
  useReady(view !== 'channels' || channels !== null || error !== null);
  const channelOptions: Array<[string, string]> = (channels ?? []).map((c) => [c.id, c.name]);
  return (
    <>
      <PageHeading>Channels</PageHeading>
      <nav class="tabs" aria-label="Notification views">
        {VIEWS.map(([v, label]) => (
          <a key={v} href={tenantHref(p.tenant, 'channels', undefined, v === 'channels' ? {} : { view: v })} aria-current={v === view ? 'page' : undefined}>
            {label}
          </a>
        ))}
      </nav>
      {view === 'messages' ? (
        <DataList<Delivery>
          key="messages"
          tenant={p.tenant}
          area="notifications/deliveries"
          caption="Messages"
          noun={['message', 'messages']}
          exportable={false}
          filters={[
            { name: 'status', label: 'Status', options: ['pending', 'delivered', 'dead-letter'] },
            { name: 'channelId', label: 'Channel', options: channelOptions },
          ]}
          live={['delivery']}
          columns={deliveryColumns({ tenant: p.tenant, manage, channel: true })}
          empty="No message matches."
        />
      ) : view === 'dead-letters' ? (
        <>
          <p class="muted">Messages given up: a permanent refusal, every attempt failed, or the channel went away. Retry sends one back for a fresh round.</p>
          <DataList<Delivery>
            key="dead"
            tenant={p.tenant}
            area="notifications/deliveries"
            caption="Dead letters"
            noun={['dead letter', 'dead letters']}
            exportable={false}
            fixed={{ status: 'dead-letter' }}
            filters={[{ name: 'channelId', label: 'Channel', options: channelOptions }]}
            live={['delivery']}
            columns={deliveryColumns({ tenant: p.tenant, manage, channel: true })}
            {...(manage
              ? {
                  select: (d: Delivery) => `Select the message about ${d.group.title} to ${d.channelName}`,
                  bulk: (s: Selection<Delivery>) => (
                    <RetryButton
                      tenant={p.tenant}
                      ids={async () => (s.allMatching ? collectIds(p.tenant, 'notifications/deliveries', s.query) : { ids: s.ids, more: false })}
                      after={(t) => {
                        s.clear();
                        void s.refresh(t);
                      }}
                      label="Retry selected"
                    />
                  ),
                }
              : {})}
            empty="No dead letters."
          />
        </>
      ) : (
        <>
          {error ? <LoadError err={error} what="the channels" /> : null}
          {secret ? <OnceSecret secret={secret} onDone={() => setSecret(null)} /> : null}
          <ScrollBox label="Channels" busy={channels === null}>
            <table data-table="channels">
              <caption class="sr">Channels</caption>
              <thead>
                <tr>
                  {['Channel', 'Kind', 'Sends to', 'On', 'From severity', 'Counts', 'Quiet hours', 'Changed'].map((h) => (
                    <th scope="col" key={h}>
                      {h}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {(channels ?? []).map((c) => (
                  <tr key={c.id} data-id={c.id}>
                    <td>
                      <a href={tenantHref(p.tenant, 'channels', c.id)}>{c.name}</a>
                    </td>
                    <td>{c.kind}</td>
                    <td>{target(c)}</td>
                    <td>
                      <Badge value={c.enabled ? 'on' : 'off'} />
                    </td>
                    <td>
                      <Badge value={c.routing.minSeverity} />
                    </td>
                    <td>{c.routing.thresholds.join(', ')}</td>
                    <td>{quietText(c)}</td>
                    <td>
                      {fmtTime(c.updatedAt)} <span class="muted small">by {whoText(c.updatedBy, c.updatedByName)}</span>
                    </td>
                  </tr>
                ))}
                {channels && channels.length === 0 ? (
                  <tr class="placeholder">
                    <td colSpan={8} class="empty">
                      No channel yet: nobody is told about alerts.
                    </td>
                  </tr>
                ) : null}
              </tbody>
            </table>
          </ScrollBox>
          {manage ? (
            <Section title="Add a channel">
              <ChannelForm
                key={formKey}
                tenant={p.tenant}
                channel={null}
                saved={(c) => {
                  setFormKey((k) => k + 1);
                  if (c.generatedSecret) setSecret(c.generatedSecret);
                  void load(c.consistencyToken);
                }}
              />
            </Section>
          ) : null}
        </>
      )}
    </>
  );
}

function ChannelDetail(p: PageProps & { id: string }) {
  const [c, setC] = useState<Channel | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const load = async (waitFor?: string) => {
    try {
      setC(await api.get<Channel>(tpath(p.tenant, 'notifications', 'channels', p.id), waitFor ? { waitFor } : {}));
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => {
    void load();
  }, [p.id]);
  useLive(['notify'], (changes, token) => {
    if (changes.some((x) => x.type !== 'resync')) void load(token);
  });
  const remove = useAction(async () => {
    const v = await ask(`Remove the channel ${c?.name}?`, [], {
      text: 'Messages still queued for it become dead letters.',
      confirm: 'Remove channel',
      danger: true,
    });
    if (!v) return;
    await request('DELETE', `/ui/api${tpath(p.tenant, 'notifications', 'channels', p.id)}`);
    notify(`${c?.name}: removed`);
    navigate(tenantHref(p.tenant, 'channels'));
  });
  useReady(c !== null || error !== null);
  if (error && !c) return <LoadError err={error} what="this channel" />;
  if (!c) return <p class="muted">Loading…</p>;
  const manage = p.can('notifications.manage');
  return (
    <>
      <p>
        <a href={tenantHref(p.tenant, 'channels')}>← Channels</a>
      </p>
      <PageHeading>
        {c.name} <Badge value={c.enabled ? 'on' : 'off'} />
      </PageHeading>
      {secret ? <OnceSecret secret={secret} onDone={() => setSecret(null)} /> : null}
      <Section title="The channel">
        <Facts
          items={[
            ['Kind', c.kind],
            ['Sends to', target(c)],
            c.kind === 'email' ? ['SMTP user', c.settings.user ?? '—'] : null,
            c.kind === 'email' ? ['From', c.settings.from ?? '—'] : null,
            ['Secrets', c.kind === 'webhook' ? 'URL and signing secret stored sealed' : c.kind === 'chat' ? 'URL stored sealed' : 'password stored sealed'],
            ['From severity', c.routing.minSeverity],
            ['A message at counts', c.routing.thresholds.join(', ')],
            ['Quiet hours', quietText(c)],
            ['Changed', `${fmtTime(c.updatedAt)} by ${whoText(c.updatedBy, c.updatedByName)}`],
            ['Added', fmtTime(c.createdAt)],
          ]}
        />
      </Section>
      <Section title="Messages to this channel">
        <DataList<Delivery>
          tenant={p.tenant}
          area="notifications/deliveries"
          caption={`Messages to ${c.name}`}
          noun={['message', 'messages']}
          exportable={false}
          inAddress={false}
          pageSize={25}
          fixed={{ channelId: c.id }}
          filters={[{ name: 'status', label: 'Status', options: ['pending', 'delivered', 'dead-letter'] }]}
          live={['delivery']}
          columns={deliveryColumns({ tenant: p.tenant, manage, channel: false })}
          empty="No message sent to this channel yet."
        />
      </Section>
      {manage ? (
        <Section title="Change this channel">
          <p class="muted small">Its secrets are write-only: to save a change, enter them again. Stockade cannot show them to you.</p>
          <ChannelForm
            key={c.updatedAt}
            tenant={p.tenant}
            channel={c}
            saved={(x) => {
              if (x.generatedSecret) setSecret(x.generatedSecret);
              void load(x.consistencyToken);
            }}
          />
          <p>
            <button type="button" class="danger" disabled={remove.busy} onClick={() => void remove.run()}>
              Remove this channel
            </button>
          </p>
        </Section>
      ) : null}
    </>
  );
}
