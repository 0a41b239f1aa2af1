import { useState } from 'preact/hooks';
import { SEVERITIES } from './alerts.tsx';

/** A channel as the API shows it: never a secret, only whether one is set. */
export interface Channel {
  id: string;
  name: string;
  enabled: boolean;
  kind: 'webhook' | 'email' | 'chat';
  settings: {
    host: string;
    secretSet?: boolean;
    urlSet?: boolean;
    passwordSet?: boolean;
    port?: number;
    startTls?: string;
    user?: string;
    from?: string;
    to?: string[];
  };
  routing: Routing;
  createdAt: string;
  updatedAt: string;
  updatedBy: string;
  updatedByName?: string | null;
}

export interface Routing {
  minSeverity: string;
  quietHours: { timeZone: string; windows: QuietWindow[] } | null;
  thresholds: number[];
}

interface QuietWindow {
  days: string[];
  start: string;
  end: string;
}

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const DEFAULT_THRESHOLDS = '1, 10, 100, 1000';

/** The body of `POST`/`PUT …/notifications/channels`, or a sentence saying what is wrong with the form. */
export function channelBody(form: HTMLFormElement, windows: number): { body: Record<string, unknown> } | { error: string; field: string } {
  const v = (name: string) => ((form.elements.namedItem(name) as HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement | null)?.value ?? '').trim();
  const checked = (name: string) => (form.elements.namedItem(name) as HTMLInputElement | null)?.checked ?? false;
  const kind = v('kind');
  let settings: Record<string, unknown>;
  if (kind === 'webhook') settings = { url: v('url'), ...(v('secret') ? { secret: v('secret') } : {}) };
  else if (kind === 'chat') settings = { url: v('chatUrl') };
  else {
    const to = v('to')
      .split(/[\n,]/)
      .map((x) => x.trim())
      .filter(Boolean);
    settings = { host: v('smtpHost'), port: Number(v('port')), startTls: 'required', user: v('user'), password: v('password'), from: v('from'), to };
  }
  const thresholds = v('thresholds')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map(Number);
  if (!thresholds.length || thresholds.some((n) => !Number.isInteger(n) || n < 1))
    return { error: 'Thresholds are whole numbers from 1, separated by commas.', field: 'thresholds' };
  let quietHours: Routing['quietHours'] = null;
  if (checked('quiet')) {
    const ws: QuietWindow[] = [];
    for (let i = 0; i < windows; i++) {
      const days = DAYS.filter((d) => checked(`w${i}-${d}`));
      if (!days.length) return { error: `Quiet window ${i + 1} needs at least one day.`, field: `w${i}-mon` };
      ws.push({ days, start: v(`w${i}-start`), end: v(`w${i}-end`) });
    }
    quietHours = { timeZone: v('timeZone'), windows: ws };
  }
  return {
    body: {
      kind,
      name: v('name'),
      enabled: checked('enabled'),
      settings,
      routing: { minSeverity: v('minSeverity'), thresholds, quietHours },
    },
  };
}

/** The fields of a channel, for a new one or to replace one (its secrets must be given again: they are never shown). */
export function ChannelFields({ channel, onWindows }: { channel: Channel | null; onWindows: (n: number) => void }) {
  const [kind, setKind] = useState<Channel['kind']>(channel?.kind ?? 'webhook');
  const [quiet, setQuiet] = useState(channel?.routing.quietHours !== null && channel !== null);
  const [windows, setWindows] = useState<QuietWindow[]>(
    channel?.routing.quietHours?.windows ?? [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '22:00', end: '07:00' }],
  );
  const again = channel ? 'Stored sealed and never shown: enter it again to save this channel.' : undefined;
  const setW = (w: QuietWindow[]) => {
    setWindows(w);
    onWindows(w.length);
  };
  const zone = channel?.routing.quietHours?.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
  return (
    <>
      <div class="grid-2">
        <div class="field">
          <label for="ch-kind">Kind</label>
          <select
            id="ch-kind"
            name="kind"
            value={kind}
            disabled={channel !== null}
            onChange={(ev) => setKind((ev.currentTarget as HTMLSelectElement).value as Channel['kind'])}
          >
            <option value="webhook">webhook (signed JSON)</option>
            <option value="email">e-mail (SMTP with STARTTLS)</option>
            <option value="chat">chat (Slack-compatible webhook)</option>
          </select>
        </div>
        <div class="field">
          <label for="ch-name">Name</label>
          <input id="ch-name" name="name" required maxLength={100} defaultValue={channel?.name ?? ''} autoComplete="off" />
        </div>
      </div>
      <div class="field inline">
        <input id="ch-enabled" name="enabled" type="checkbox" defaultChecked={channel?.enabled ?? true} />
        <label for="ch-enabled">On: messages are sent</label>
      </div>
      <fieldset>
        <legend>Where to</legend>
        {kind === 'webhook' ? (
          <div class="grid-2">
            <div class="field">
              <label for="ch-url">Receiver URL (https://)</label>
              <input id="ch-url" name="url" type="url" required minLength={8} maxLength={2048} autoComplete="off" aria-describedby="ch-url-hint" />
              <p class="hint" id="ch-url-hint">
                {channel ? `Now at ${channel.settings.host}. ${again}` : 'The receiver checks the signature of every message with the channel secret.'}
              </p>
            </div>
            <div class="field">
              <label for="ch-secret">Signing secret (optional)</label>
              <input
                id="ch-secret"
                name="secret"
                type="password"
                minLength={32}
                maxLength={256}
                pattern="[\x21-\x7e]+"
                autoComplete="new-password"
                aria-describedby="ch-secret-hint"
              />
              <p class="hint" id="ch-secret-hint">
                At least 32 characters. Leave empty and Stockade makes one, shown once{channel ? ': the receiver then needs the new one' : ''}.
              </p>
            </div>
          </div>
        ) : kind === 'chat' ? (
          <div class="field">
            <label for="ch-chat-url">Incoming-webhook URL</label>
            <input
              id="ch-chat-url"
              name="chatUrl"
              type="password"
              required
              minLength={8}
              maxLength={2048}
              autoComplete="new-password"
              aria-describedby="ch-chat-hint"
            />
            <p class="hint" id="ch-chat-hint">
              Whoever knows it can post, so it is kept as a secret{channel ? ` (now at ${channel.settings.host}). ${again}` : '.'}
            </p>
          </div>
        ) : (
          <div class="grid-2">
            <div class="field">
              <label for="ch-smtp-host">SMTP server</label>
              <input id="ch-smtp-host" name="smtpHost" required maxLength={253} defaultValue={channel?.settings.host ?? ''} autoComplete="off" />
            </div>
            <div class="field">
              <label for="ch-port">Port</label>
              <input id="ch-port" name="port" type="number" required min={1} max={65535} defaultValue={String(channel?.settings.port ?? 587)} />
            </div>
            <div class="field">
              <label for="ch-user">User</label>
              <input id="ch-user" name="user" required maxLength={256} defaultValue={channel?.settings.user ?? ''} autoComplete="off" />
            </div>
            <div class="field">
              <label for="ch-password">Password</label>
              <input
                id="ch-password"
                name="password"
                type="password"
                required
                maxLength={1024}
                autoComplete="new-password"
                aria-describedby="ch-password-hint"
              />
              <p class="hint" id="ch-password-hint">
                {again ?? 'Stored sealed; never shown again.'} Nothing is sent without STARTTLS.
              </p>
            </div>
            <div class="field">
              <label for="ch-from">From</label>
              <input id="ch-from" name="from" type="email" required maxLength={254} defaultValue={channel?.settings.from ?? ''} />
            </div>
            <div class="field">
              <label for="ch-to">To (one address per line, at most 20)</label>
              <textarea id="ch-to" name="to" rows={3} required defaultValue={(channel?.settings.to ?? []).join('\n')} />
            </div>
          </div>
        )}
      </fieldset>
      <fieldset>
        <legend>What and when</legend>
        <div class="grid-2">
          <div class="field">
            <label for="ch-min">Alerts from this severity up</label>
            <select id="ch-min" name="minSeverity" defaultValue={channel?.routing.minSeverity ?? 'medium'}>
              {SEVERITIES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="ch-thresholds">A message when an alert's count reaches</label>
            <input id="ch-thresholds" name="thresholds" required maxLength={200} defaultValue={channel?.routing.thresholds.join(', ') ?? DEFAULT_THRESHOLDS} />
            <p class="hint">One message when an alert is new, one more at each of these counts: never one per occurrence.</p>
          </div>
        </div>
        <div class="field inline">
          <input id="ch-quiet" name="quiet" type="checkbox" checked={quiet} onChange={(ev) => setQuiet((ev.currentTarget as HTMLInputElement).checked)} />
          <label for="ch-quiet">Quiet hours (critical alerts still go out; the others wait until the window ends)</label>
        </div>
        {quiet ? (
          <div class="quiet">
            <div class="field">
              <label for="ch-tz">Time zone</label>
              <input id="ch-tz" name="timeZone" required maxLength={64} defaultValue={zone} autoComplete="off" />
            </div>
            {windows.map((w, i) => (
              <fieldset key={`${i}-${windows.length}`} class="window">
                <legend>Window {i + 1}</legend>
                <div class="days">
                  {DAYS.map((d) => (
                    <span class="field inline" key={d}>
                      <input id={`w${i}-${d}`} name={`w${i}-${d}`} type="checkbox" defaultChecked={w.days.includes(d)} />
                      <label for={`w${i}-${d}`}>{d}</label>
                    </span>
                  ))}
                </div>
                <div class="inline-form">
                  <div class="field">
                    <label for={`w${i}-start`}>From</label>
                    <input id={`w${i}-start`} name={`w${i}-start`} required pattern="([01][0-9]|2[0-3]):[0-5][0-9]" defaultValue={w.start} size={6} />
                  </div>
                  <div class="field">
                    <label for={`w${i}-end`}>Until</label>
                    <input id={`w${i}-end`} name={`w${i}-end`} required pattern="([01][0-9]|2[0-3]):[0-5][0-9]|24:00" defaultValue={w.end} size={6} />
                  </div>
                  {windows.length > 1 ? (
                    <button type="button" onClick={() => setW(windows.filter((_, k) => k !== i))}>
                      Remove window {i + 1}
                    </button>
                  ) : null}
                </div>
              </fieldset>
            ))}
            {windows.length < 14 ? (
              <button type="button" onClick={() => setW([...windows, { days: ['sat', 'sun'], start: '00:00', end: '24:00' }])}>
                Add a window
              </button>
            ) : null}
          </div>
        ) : null}
      </fieldset>
    </>
  );
}
