import { useEffect, useState } from 'preact/hooks';
import { DIRECTORY_SETTINGS_SCHEMA, SETTINGS_OVERRIDE_SCHEMA } from '../../../domain/agent-config.ts';
import type { CollectionSettings, DirectorySettings, SettingsOverride } from '../../../domain/agent-config.ts';
import { PageHeading } from '../components/bits.tsx';
import { useAction } from '../lib/act.ts';
import { api, tpath } from '../lib/api.ts';
import { count } from '../lib/format.ts';
import { useLive } from '../lib/live.ts';
import { type PageProps, useReady } from '../lib/page.ts';
import { LoadError } from './telemetry.tsx';

/** What `GET …/agent-config` and `GET …/agents/:agentId/config` answer. */
interface ConfigView {
  settings: SettingsOverride;
  effective: CollectionSettings;
  collectors: string[];
  defaults?: CollectionSettings;
}

type Bounds = { minimum: number; maximum: number };
const S = SETTINGS_OVERRIDE_SCHEMA.properties;
const D = DIRECTORY_SETTINGS_SCHEMA.properties;

/** A number field of the form: where it sits in the settings, its label, its bounds, its unit. */
interface NumberField {
  path: [string] | [string, string];
  label: string;
  bounds: Bounds;
  unit: 'ms' | 'bytes' | 'items' | 's';
}

const GENERAL: NumberField[] = [
  { path: ['configIntervalMs'], label: 'Ask for this configuration every', bounds: S.configIntervalMs, unit: 'ms' },
  { path: ['heartbeatIntervalMs'], label: 'Heartbeat every', bounds: S.heartbeatIntervalMs, unit: 'ms' },
  { path: ['commandPollMs'], label: 'Pull commands every', bounds: S.commandPollMs, unit: 'ms' },
  { path: ['maxBatchItems'], label: 'Items per telemetry batch, at most', bounds: S.maxBatchItems, unit: 'items' },
  { path: ['clockSkewWarnSeconds'], label: 'Report a clock skew over', bounds: S.clockSkewWarnSeconds, unit: 's' },
];
const COLLECTORS: Array<{ collector: string; title: string; product: string; fields: NumberField[] }> = [
  {
    collector: 'processes',
    title: 'Processes',
    product: 'edr',
    fields: [
      { path: ['processes', 'intervalMs'], label: 'Look for new processes every', bounds: S.processes.properties.intervalMs as Bounds, unit: 'ms' },
      { path: ['processes', 'maxCmdlineBytes'], label: 'Command lines cut at', bounds: S.processes.properties.maxCmdlineBytes as Bounds, unit: 'bytes' },
      { path: ['processes', 'maxHashBytes'], label: 'Hash executables up to', bounds: S.processes.properties.maxHashBytes as Bounds, unit: 'bytes' },
    ],
  },
  {
    collector: 'connections',
    title: 'Connections',
    product: 'edr',
    fields: [
      { path: ['connections', 'intervalMs'], label: 'Look for new connections every', bounds: S.connections.properties.intervalMs as Bounds, unit: 'ms' },
    ],
  },
  {
    collector: 'localAccounts',
    title: 'Local accounts',
    product: 'identity',
    fields: [
      { path: ['localAccounts', 'intervalMs'], label: 'Read local accounts every', bounds: S.localAccounts.properties.intervalMs as Bounds, unit: 'ms' },
    ],
  },
];

function get(o: unknown, path: readonly string[]): unknown {
  let v = o;
  for (const k of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/** A value as people read it: "10 s", "4,096 bytes". */
function human(v: unknown, unit: NumberField['unit']): string {
  if (typeof v !== 'number') return '—';
  if (unit === 'ms') return v >= 60_000 && v % 60_000 === 0 ? `${count(v / 60_000)} min` : `${count(v / 1000)} s`;
  if (unit === 's') return `${count(v)} s`;
  return `${count(v)} ${unit}`;
}

function NumberInput({
  f,
  own,
  base,
  baseName,
  disabled,
  idp,
}: {
  f: NumberField;
  own: unknown;
  base: unknown;
  baseName: string;
  disabled: boolean;
  idp: string;
}) {
  const id = `${idp}-${f.path.join('-')}`;
  return (
    <div class="field">
      <label for={id}>
        {f.label} ({f.unit})
      </label>
      <input
        id={id}
        name={f.path.join('.')}
        type="number"
        inputMode="numeric"
        min={f.bounds.minimum}
        max={f.bounds.maximum}
        step={1}
        defaultValue={typeof own === 'number' ? String(own) : ''}
        placeholder={typeof base === 'number' ? String(base) : ''}
        disabled={disabled}
        aria-describedby={`${id}-hint`}
      />
      <p class="hint" id={`${id}-hint`}>
        {typeof own === 'number' ? `Set here: ${human(own, f.unit)}. ` : ''}Empty: {baseName}, {human(base, f.unit)}. From {count(f.bounds.minimum)} to{' '}
        {count(f.bounds.maximum)}.
      </p>
    </div>
  );
}

/** The override the form holds: only the fields given, numbers as numbers, the directory whole or null. */
function overrideOf(form: HTMLFormElement): SettingsOverride {
  const out: Record<string, unknown> = {};
  for (const f of [...GENERAL, ...COLLECTORS.flatMap((c) => c.fields)]) {
    const el = form.elements.namedItem(f.path.join('.')) as HTMLInputElement | null;
    if (!el || el.disabled || el.value.trim() === '') continue;
    const n = Number(el.value);
    if (f.path.length === 1) out[f.path[0]] = n;
    else {
      const [a, b] = f.path;
      out[a] = { ...((out[a] as object | undefined) ?? {}), [b]: n };
    }
  }
  const mode = (form.elements.namedItem('directory.mode') as HTMLSelectElement | null)?.value;
  if (mode === 'off') out.directory = null;
  else if (mode === 'set') {
    const v = (k: string) => ((form.elements.namedItem(`directory.${k}`) as HTMLInputElement | HTMLTextAreaElement | null)?.value ?? '').trim();
    const d: Record<string, unknown> = { url: v('url'), bindDn: v('bindDn'), caPem: v('caPem'), intervalMs: Number(v('intervalMs') || 900_000) };
    d.startTls = (form.elements.namedItem('directory.startTls') as HTMLInputElement).checked;
    for (const k of ['tlsServerName', 'searchBaseDn', 'actionBaseDn']) if (v(k)) d[k] = v(k);
    for (const k of ['pageSize', 'staleAfterDays']) if (v(k)) d[k] = Number(v(k));
    const groups = v('extraPrivilegedGroups')
      .split('\n')
      .map((x) => x.trim())
      .filter(Boolean);
    if (groups.length) d.extraPrivilegedGroups = groups;
    out.directory = d;
  }
  return out as SettingsOverride;
}

/** The directory part: as below (inherited), not collected, or these settings. The bind password never passes through Stockade. */
function DirectoryFields({
  own,
  base,
  disabled,
  idp,
}: {
  own: DirectorySettings | null | undefined;
  base: DirectorySettings | null;
  disabled: boolean;
  idp: string;
}) {
  const [mode, setMode] = useState(own === undefined ? 'inherit' : own === null ? 'off' : 'set');
  const d = own ?? base ?? null;
  const text = (k: keyof DirectorySettings, label: string, o: { required?: boolean; max?: number; hint?: string } = {}) => (
    <div class="field">
      <label for={`${idp}-dir-${k}`}>{label}</label>
      <input
        id={`${idp}-dir-${k}`}
        name={`directory.${k}`}
        defaultValue={d && typeof d[k] === 'string' ? String(d[k]) : ''}
        required={o.required}
        maxLength={o.max}
        disabled={disabled}
        autoComplete="off"
        spellcheck={false}
      />
      {o.hint ? <p class="hint">{o.hint}</p> : null}
    </div>
  );
  return (
    <fieldset>
      <legend>Active Directory</legend>
      <div class="field">
        <label for={`${idp}-dir-mode`}>Directory collection</label>
        <select
          id={`${idp}-dir-mode`}
          name="directory.mode"
          value={mode}
          disabled={disabled}
          onChange={(ev) => setMode((ev.currentTarget as HTMLSelectElement).value)}
        >
          <option value="inherit">{base ? `as inherited (${base.url})` : 'as inherited (not collected)'}</option>
          <option value="off">not collected</option>
          <option value="set">these settings</option>
        </select>
        <p class="hint">Give directory settings to the agent on (or next to) a domain controller. Its bind password stays in a file on that host.</p>
      </div>
      {mode === 'set' ? (
        <div class="grid-2">
          {text('url', 'Directory URL (ldaps:// or ldap:// with StartTLS)', { required: true, max: D.url.maxLength })}
          {text('bindDn', 'Bind DN', { required: true, max: D.bindDn.maxLength })}
          {text('tlsServerName', 'TLS server name', { max: D.tlsServerName.maxLength })}
          {text('searchBaseDn', 'Search base DN', { max: D.searchBaseDn.maxLength })}
          {text('actionBaseDn', 'Accounts it may act on, under', {
            max: D.actionBaseDn.maxLength,
            hint: 'disable-account and reset-credentials act only here',
          })}
          <div class="field inline">
            <input id={`${idp}-dir-startTls`} name="directory.startTls" type="checkbox" defaultChecked={d?.startTls === true} disabled={disabled} />
            <label for={`${idp}-dir-startTls`}>StartTLS on ldap://</label>
          </div>
          {(['intervalMs', 'pageSize', 'staleAfterDays'] as const).map((k) => (
            <div class="field" key={k}>
              <label for={`${idp}-dir-${k}`}>
                {k === 'intervalMs' ? 'Read the directory every (ms)' : k === 'pageSize' ? 'Page size' : 'Stale after (days)'}
              </label>
              <input
                id={`${idp}-dir-${k}`}
                name={`directory.${k}`}
                type="number"
                min={D[k].minimum}
                max={D[k].maximum}
                required={k === 'intervalMs'}
                defaultValue={d && typeof d[k] === 'number' ? String(d[k]) : k === 'intervalMs' ? '900000' : ''}
                disabled={disabled}
              />
            </div>
          ))}
          <div class="field">
            <label for={`${idp}-dir-caPem`}>CA certificate of the directory (PEM)</label>
            <textarea id={`${idp}-dir-caPem`} name="directory.caPem" rows={4} required disabled={disabled} defaultValue={d?.caPem ?? ''} spellcheck={false} />
          </div>
          <div class="field">
            <label for={`${idp}-dir-extraPrivilegedGroups`}>More privileged groups (one per line)</label>
            <textarea
              id={`${idp}-dir-extraPrivilegedGroups`}
              name="directory.extraPrivilegedGroups"
              rows={3}
              disabled={disabled}
              defaultValue={(d?.extraPrivilegedGroups ?? []).join('\n')}
            />
          </div>
        </div>
      ) : null}
    </fieldset>
  );
}

/** The settings form of the customer (`scope` tenant) or of one agent. */
function SettingsForm(p: PageProps & { view: ConfigView; base: CollectionSettings; agentId: string | null; saved: (token: string) => void }) {
  const editable = p.can('agents.configure');
  const idp = p.agentId ? 'agent-cfg' : 'cfg';
  const baseName = p.agentId ? "the customer's" : "the install's default";
  const save = useAction(
    async (form: HTMLFormElement) => {
      const path = p.agentId ? tpath(p.tenant, 'agents', p.agentId, 'config') : tpath(p.tenant, 'agent-config');
      const out = await api.put<{ consistencyToken: string }>(path, overrideOf(form));
      p.saved(out.consistencyToken);
    },
    { done: 'Collection settings saved: agents take them within their configuration interval' },
  );
  const products = p.tenantDoc?.products ?? [];
  return (
    <form
      class="settings-form"
      aria-label={p.agentId ? "This agent's collection settings" : "The customer's collection settings"}
      onSubmit={(ev) => {
        ev.preventDefault();
        const form = ev.currentTarget as HTMLFormElement;
        if (form.reportValidity()) void save.run(form);
      }}
    >
      {!editable ? <p class="notice">Your role may read these settings but not change them.</p> : null}
      <fieldset>
        <legend>Every agent</legend>
        <div class="grid-2">
          {GENERAL.map((f) => (
            <NumberInput
              key={f.path.join('.')}
              f={f}
              own={get(p.view.settings, f.path)}
              base={get(p.base, f.path)}
              baseName={baseName}
              disabled={!editable}
              idp={idp}
            />
          ))}
        </div>
      </fieldset>
      {COLLECTORS.map((c) => (
        <fieldset key={c.collector} data-collector={c.collector}>
          <legend>
            {c.title}: {p.view.collectors.includes(c.collector) ? 'collected' : `not collected while ${c.product} is off`}
          </legend>
          <div class="grid-2">
            {c.fields.map((f) => (
              <NumberInput
                key={f.path.join('.')}
                f={f}
                own={get(p.view.settings, f.path)}
                base={get(p.base, f.path)}
                baseName={baseName}
                disabled={!editable}
                idp={idp}
              />
            ))}
          </div>
        </fieldset>
      ))}
      {products.includes('identity') ? <DirectoryFields own={p.view.settings.directory} base={p.base.directory} disabled={!editable} idp={idp} /> : null}
      {editable ? (
        <button type="submit" class="primary" disabled={save.busy}>
          Save collection settings
        </button>
      ) : null}
    </form>
  );
}

/** Reads a configuration route, again when collection settings change. */
function useConfig(path: string) {
  const [view, setView] = useState<ConfigView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = async (waitFor?: string) => {
    try {
      setView(await api.get<ConfigView>(path, waitFor ? { waitFor } : {}));
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => {
    void load();
  }, [path]);
  useLive(['agent-config', 'tenant'], (_c, token) => void load(token));
  // Forms are keyed by what they show: a read that changes nothing keeps what is being typed.
  return { view, error, version: view ? JSON.stringify(view.settings) : '', load };
}

/** Collection settings of the customer: what its agents collect and how often, over the install's defaults. */
export function CollectionPage(p: PageProps) {
  const c = useConfig(tpath(p.tenant, 'agent-config'));
  useReady(c.view !== null || c.error !== null);
  return (
    <>
      <PageHeading>Collection settings</PageHeading>
      <p class="muted">
        What this customer's agents collect and how often. A field left empty takes the install's default; one agent can have its own settings over these (on
        its page). Agents pick up a change within their configuration interval.
      </p>
      {c.error ? <LoadError err={c.error} what="the collection settings" /> : null}
      {c.view?.defaults ? <SettingsForm key={c.version} {...p} view={c.view} base={c.view.defaults} agentId={null} saved={(t) => void c.load(t)} /> : null}
    </>
  );
}

/** One agent's own collection settings, over the customer's (a section of the agent's page). */
export function AgentCollection(p: PageProps & { agentId: string; hostname: string }) {
  const mine = useConfig(tpath(p.tenant, 'agents', p.agentId, 'config'));
  const tenant = useConfig(tpath(p.tenant, 'agent-config'));
  return (
    <section class="card" id="collection" aria-label="Collection settings of this agent">
      <h2>Collection settings</h2>
      <p class="muted small">
        {p.hostname}'s own settings over the customer's (empty fields follow the customer's). It runs with: processes every{' '}
        {human(mine.view?.effective.processes.intervalMs, 'ms')}, connections every {human(mine.view?.effective.connections.intervalMs, 'ms')}, local accounts
        every {human(mine.view?.effective.localAccounts.intervalMs, 'ms')}
        {mine.view?.effective.directory ? `, the directory ${mine.view.effective.directory.url}` : ''}.
      </p>
      {mine.error ? <LoadError err={mine.error} what="this agent's settings" /> : null}
      {mine.view && tenant.view ? (
        <details open={Object.keys(mine.view.settings).length > 0}>
          <summary>{Object.keys(mine.view.settings).length ? "This agent's own settings" : 'Give this agent its own settings'}</summary>
          <SettingsForm
            key={`${mine.version}-${tenant.version}`}
            {...p}
            view={mine.view}
            base={tenant.view.effective}
            agentId={p.agentId}
            saved={(t) => void mine.load(t)}
          />
        </details>
      ) : null}
    </section>
  );
}
