import { useEffect, useRef, useState } from 'preact/hooks';
import { LEVELS } from '../../../detect/types.ts';
import { Badge, Facts, PageHeading, ScrollBox, Section } from '../components/bits.tsx';
import { ask } from '../components/dialog.tsx';
import { useAction } from '../lib/act.ts';
import { api, request, tpath } from '../lib/api.ts';
import { ApiError, explain } from '../lib/errors.ts';
import { useLive } from '../lib/live.ts';
import { notify } from '../lib/notices.tsx';
import { type PageProps, useReady } from '../lib/page.ts';
import { navigate, readQuery, setQuery, tenantHref, useWhere } from '../lib/router.ts';
import { isPending, sentForApproval } from './approvals.tsx';
import { LoadError } from './telemetry.tsx';

type Level = (typeof LEVELS)[number];

/** A rule's tenant setting (`PUT …/detection/rules/:ruleId/setting`). */
interface RuleSetting {
  enabled?: boolean;
  level?: Level;
  exclude?: Record<string, Array<string | number | boolean>>;
}

/** A rule as `GET …/detection/rules` gives it. */
export interface Rule {
  id: string;
  title: string;
  description: string | null;
  status: string | null;
  custom: boolean;
  name?: string;
  logsource: string;
  product: string;
  level: Level;
  defaultLevel: Level;
  tags: string[];
  attack: string[];
  falsepositives: string[];
  windowMs: number;
  groupBy: string[];
  version: string;
  enabled: boolean;
  active: boolean;
  setting: RuleSetting | null;
  source?: string;
}

/** One reason a rule or a setting was refused (`data.problems` of STK_ERR_DETECT_RULE_INVALID / _CONFIG_INVALID). */
interface Problem {
  file?: string;
  line?: number;
  col?: number;
  path: string;
  reason: string;
}

const RULE_CODES = new Set(['STK_ERR_DETECT_RULE_INVALID', 'STK_ERR_DETECT_CONFIG_INVALID']);

/** A refusal of a rule or a setting: its code and every problem. */
interface Refusal {
  code: string;
  problems: Problem[];
}

/** The problems of a refused rule or setting, or null for any other failure (which is thrown on). */
function problemsOf(err: unknown): Refusal | null {
  if (!(err instanceof ApiError) || !RULE_CODES.has(err.code)) return null;
  return { code: err.code, problems: Array.isArray(err.data.problems) ? (err.data.problems as Problem[]) : [] };
}

/** An ATT&CK technique id as a link to its page. */
function Technique({ id }: { id: string }) {
  const [t, sub] = id.split('.');
  return (
    <a href={`https://attack.mitre.org/techniques/${t}/${sub ? `${sub}/` : ''}`} rel="noreferrer noopener" target="_blank" class="attack">
      {id}
    </a>
  );
}

/** ATT&CK ids of a rule or an alert. */
export function Techniques({ ids }: { ids: readonly string[] }) {
  if (!ids.length) return <span class="muted">—</span>;
  return (
    <span class="techniques">
      {ids.map((id, i) => (
        <span key={id}>
          {i ? ', ' : ''}
          <Technique id={id} />
        </span>
      ))}
    </span>
  );
}

/** Whether the rule runs, as a word. */
function runState(r: Rule): string {
  if (r.active) return 'runs';
  return r.enabled ? `${r.product} off` : 'off';
}

/** The problems list: each names its line and column; a click puts the cursor there. */
function ProblemList({ refusal, onPick }: { refusal: Refusal; onPick?: (line: number, col: number) => void }) {
  const problems = refusal.problems;
  return (
    <div class="problems" role="alert" data-problems={problems.length}>
      <p class="error">
        {explain(new ApiError(400, refusal.code, null)).sentence} <code class="error-code">{refusal.code}</code>
      </p>
      <p>{problems.length === 1 ? 'One problem:' : `${problems.length} problems:`}</p>
      <ol>
        {problems.map((x, i) => (
          <li key={`${i}-${x.line}-${x.path}`} data-line={x.line ?? ''}>
            {x.line !== undefined && onPick ? (
              <button type="button" class="link" onClick={() => onPick(x.line!, x.col ?? 1)}>
                Line {x.line}, column {x.col ?? 1}
              </button>
            ) : x.line !== undefined ? (
              <strong>
                Line {x.line}, column {x.col ?? 1}
              </strong>
            ) : null}
            {x.line !== undefined ? ': ' : ''}
            {x.path ? <code>{x.path}</code> : null}
            {x.path ? ' — ' : ''}
            {x.reason}
          </li>
        ))}
      </ol>
    </div>
  );
}

/** Puts the textarea's cursor at the start of a line and column, and selects the line. */
function selectLine(area: HTMLTextAreaElement | null, line: number, col: number): void {
  if (!area) return;
  const lines = area.value.split('\n');
  let start = 0;
  for (let i = 0; i < Math.min(line - 1, lines.length); i++) start += lines[i]!.length + 1;
  const end = start + (lines[line - 1]?.length ?? 0);
  area.focus();
  area.setSelectionRange(start + Math.max(0, col - 1), end);
  // Scroll the line into view: about its share of the text's height.
  area.scrollTop = Math.max(0, ((line - 3) / Math.max(1, lines.length)) * area.scrollHeight);
}

/** A new rule file to start from, with a fresh id. */
function example(): string {
  const id = globalThis.crypto?.randomUUID?.() ?? '00000000-0000-4000-8000-000000000000';
  return [
    'title: Netcat listening on a port',
    `id: ${id}`,
    'status: experimental',
    'description: A netcat binary was started with the listen flag.',
    'tags:',
    '    - attack.command-and-control',
    '    - attack.t1095',
    'logsource:',
    '    product: linux',
    '    category: process_creation',
    'detection:',
    '    selection:',
    '        Image|endswith:',
    "            - '/nc'",
    "            - '/ncat'",
    "        CommandLine|contains: ' -l'",
    '    condition: selection',
    'falsepositives:',
    '    - Administrators testing ports',
    'level: high',
    '',
  ].join('\n');
}

/**
 * The editor of a custom rule: a name, the YAML (typed, pasted or loaded from a file). A refused rule
 * shows every problem with its line and column; a click on one puts the cursor on that line.
 */
function CustomRuleEditor(p: { tenant: string; rule?: Rule; onSaved: (rule: Rule & { consistencyToken: string }) => void }) {
  const area = useRef<HTMLTextAreaElement>(null);
  const [problems, setProblems] = useState<Refusal | null>(null);
  const [yaml, setYaml] = useState(p.rule?.source ?? '');
  const save = useAction(async (name: string, text: string) => {
    setProblems(null);
    try {
      const body = { name, yaml: text };
      const out = p.rule
        ? await api.put<Rule & { consistencyToken: string }>(tpath(p.tenant, 'detection', 'custom-rules', p.rule.id), body)
        : await api.post<Rule & { consistencyToken: string }>(tpath(p.tenant, 'detection', 'custom-rules'), body);
      // The customer's four-eyes policy may gate custom rules: the rule passed every check and waits for a second person.
      if (isPending(out)) return sentForApproval(p.rule ? `The new version of ${p.rule.title}` : `The custom rule ${name}`, out);
      notify(p.rule ? `${out.title}: new version saved` : `${out.title}: custom rule added`);
      p.onSaved(out);
    } catch (err) {
      const found = problemsOf(err);
      if (!found) throw err;
      setProblems(found);
    }
  });
  const id = p.rule ? 'replace-rule' : 'new-rule';
  return (
    <form
      class="rule-editor"
      aria-label={p.rule ? 'Replace this custom rule' : 'Add a custom rule'}
      onSubmit={(ev) => {
        ev.preventDefault();
        const form = ev.currentTarget as HTMLFormElement;
        if (!form.reportValidity()) return;
        const name = (form.elements.namedItem('name') as HTMLInputElement).value.trim();
        void save.run(name, area.current?.value ?? '');
      }}
    >
      <div class="inline-form">
        <div class="field grow">
          <label for={`${id}-name`}>Name (a file name: letters, digits, . _ -)</label>
          <input
            id={`${id}-name`}
            name="name"
            required
            maxLength={128}
            pattern="[A-Za-z0-9._\-]+"
            defaultValue={p.rule?.name ?? ''}
            autoComplete="off"
            spellcheck={false}
          />
        </div>
        <div class="field">
          <label for={`${id}-file`}>Load from a file</label>
          <input
            id={`${id}-file`}
            type="file"
            accept=".yml,.yaml,text/yaml,text/plain"
            onChange={async (ev) => {
              const f = (ev.currentTarget as HTMLInputElement).files?.[0];
              if (!f) return;
              setYaml(await f.text());
              const nameField = (ev.currentTarget as HTMLInputElement).form?.elements.namedItem('name') as HTMLInputElement | null;
              if (nameField && !nameField.value) nameField.value = f.name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 128);
            }}
          />
        </div>
        {p.rule ? null : (
          <button type="button" onClick={() => setYaml(example())}>
            Start from an example
          </button>
        )}
      </div>
      <div class="field">
        <label for={`${id}-yaml`}>Rule (YAML, the Sigma subset of the detection guide)</label>
        <textarea
          id={`${id}-yaml`}
          ref={area}
          name="yaml"
          rows={18}
          required
          maxLength={65_536}
          spellcheck={false}
          class="code"
          value={yaml}
          onInput={(ev) => setYaml((ev.currentTarget as HTMLTextAreaElement).value)}
          aria-describedby={problems ? `${id}-problems` : undefined}
          aria-invalid={problems ? 'true' : undefined}
        />
      </div>
      <div id={`${id}-problems`}>{problems ? <ProblemList refusal={problems} onPick={(line, col) => selectLine(area.current, line, col)} /> : null}</div>
      <button type="submit" class="primary" disabled={save.busy}>
        {p.rule ? 'Save a new version' : 'Add custom rule'}
      </button>
    </form>
  );
}

/** Reads the tenant's rules, again when its detection settings change. */
function useRules(tenant: string) {
  const [rules, setRules] = useState<Rule[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = async (waitFor?: string) => {
    try {
      setRules((await api.get<{ items: Rule[] }>(tpath(tenant, 'detection', 'rules'), waitFor ? { waitFor } : {})).items);
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => {
    void load();
  }, [tenant]);
  useLive(['detection', 'tenant'], (_c, token) => void load(token));
  return { rules, error, load };
}

/** Turns a rule on or off for this tenant; its level and exclusions stay. */
function RuleToggle({ tenant, rule, after }: { tenant: string; rule: Rule; after: (token: string) => void }) {
  // The box shows the click at once; the list's next read confirms it (or a failure puts it back).
  const [on, setOn] = useState(rule.enabled);
  useEffect(() => setOn(rule.enabled), [rule.enabled]);
  const toggle = useAction(async (next: boolean) => {
    setOn(next);
    try {
      const out = await api.put<{ consistencyToken: string }>(tpath(tenant, 'detection', 'rules', rule.id, 'setting'), {
        ...(rule.setting ?? {}),
        enabled: next,
      });
      notify(`${rule.title}: ${next ? 'on' : 'off'}`);
      after(out.consistencyToken);
    } catch (err) {
      setOn(!next);
      throw err;
    }
  });
  const core = rule.product === 'core';
  return (
    <input
      type="checkbox"
      checked={on}
      disabled={core || toggle.busy}
      aria-label={`${rule.title} on`}
      title={core ? 'Core rules always run: narrow them with exclusions instead' : undefined}
      onChange={(ev) => void toggle.run((ev.currentTarget as HTMLInputElement).checked)}
    />
  );
}

const RULE_FILTERS = { q: '', product: '', level: '', state: '', custom: '' };

export function RulesPage(p: PageProps) {
  if (p.id) return <RuleDetail {...p} id={p.id} />;
  return <RuleList {...p} />;
}

function RuleList(p: PageProps) {
  useWhere();
  const { rules, error, load } = useRules(p.tenant);
  useReady(rules !== null || error !== null);
  const f = readQuery(RULE_FILTERS);
  const manage = p.can('detection.manage');
  const q = f.q.toLowerCase();
  const shown = (rules ?? []).filter(
    (r) =>
      (!q || [r.title, r.id, r.logsource, ...r.attack, ...r.tags].some((x) => x.toLowerCase().includes(q))) &&
      (!f.product || r.product === f.product) &&
      (!f.level || r.level === f.level) &&
      (!f.state || runState(r) === f.state || (f.state === 'product-off' && !r.active && r.enabled)) &&
      (!f.custom || String(r.custom) === f.custom),
  );
  const select = (name: string, label: string, options: Array<[string, string]>) => (
    <div class="field inline">
      <label for={`rules-${name}`}>{label}</label>
      <select id={`rules-${name}`} value={f[name as keyof typeof f]} onChange={(ev) => setQuery({ [name]: (ev.currentTarget as HTMLSelectElement).value })}>
        <option value="">any</option>
        {options.map(([v, t]) => (
          <option key={v} value={v}>
            {t}
          </option>
        ))}
      </select>
    </div>
  );
  return (
    <>
      <PageHeading>Rules</PageHeading>
      <p class="muted">
        The detection rules of this customer: the built-in pack and its own rules. A rule runs while it is on and its product is on; core rules always run.
      </p>
      {error ? <LoadError err={error} what="the rules" /> : null}
      <fieldset class="filters">
        <legend class="sr">Filters of the rules</legend>
        <form
          class="field inline search"
          aria-label="Search rules"
          onSubmit={(ev) => {
            ev.preventDefault();
            setQuery({ q: ((ev.currentTarget as HTMLFormElement).elements.namedItem('q') as HTMLInputElement).value.trim() });
          }}
        >
          <label for="rules-q">Search</label>
          <input id="rules-q" key={f.q} name="q" type="search" maxLength={200} defaultValue={f.q} />
          <button type="submit">Go</button>
        </form>
        {select('product', 'Product', [
          ['core', 'core'],
          ['edr', 'edr'],
          ['identity', 'identity'],
        ])}
        {select(
          'level',
          'Level',
          LEVELS.map((l) => [l, l]),
        )}
        {select('state', 'State', [
          ['runs', 'runs'],
          ['off', 'off'],
          ['product-off', 'its product off'],
        ])}
        {select('custom', 'Kind', [
          ['false', 'built-in'],
          ['true', 'custom'],
        ])}
      </fieldset>
      <p class="total">{rules ? `${shown.length} of ${rules.length} rules` : 'Loading…'}</p>
      <ScrollBox label="Rules" busy={rules === null}>
        <table data-table="rules">
          <caption class="sr">Rules</caption>
          <thead>
            <tr>
              {['On', 'Rule', 'Level', 'Product', 'Log source', 'ATT&CK', 'State'].map((h) => (
                <th scope="col" key={h}>
                  {h}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => (
              <tr key={r.id} data-id={r.id}>
                <td>{manage ? <RuleToggle tenant={p.tenant} rule={r} after={(t) => void load(t)} /> : r.enabled ? 'on' : 'off'}</td>
                <td>
                  <a href={tenantHref(p.tenant, 'rules', r.id)}>{r.title}</a>
                  {r.custom ? (
                    <>
                      {' '}
                      <Badge value="custom" />
                    </>
                  ) : null}
                </td>
                <td>
                  <Badge value={r.level} />
                  {r.level !== r.defaultLevel ? <span class="muted small"> (shipped {r.defaultLevel})</span> : null}
                </td>
                <td>{r.product}</td>
                <td>
                  <code>{r.logsource}</code>
                </td>
                <td>
                  <Techniques ids={r.attack} />
                </td>
                <td>
                  <Badge value={runState(r).replace(' ', '-')} />
                  {r.setting?.exclude ? <span class="muted small"> with exclusions</span> : null}
                </td>
              </tr>
            ))}
            {rules && shown.length === 0 ? (
              <tr class="placeholder">
                <td colSpan={7} class="empty">
                  No rule matches.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </ScrollBox>
      {manage ? (
        <Section title="Add a custom rule">
          <CustomRuleEditor
            tenant={p.tenant}
            onSaved={(r) => {
              void load(r.consistencyToken);
              navigate(tenantHref(p.tenant, 'rules', r.id));
            }}
          />
        </Section>
      ) : null}
    </>
  );
}

/** Exclusions as the form writes them: one `Field = value` per line. */
function exclusionsText(exclude: RuleSetting['exclude']): string {
  return Object.entries(exclude ?? {})
    .flatMap(([field, values]) => values.map((v) => `${field} = ${String(v)}`))
    .join('\n');
}

function parseExclusions(text: string): { exclude: Record<string, string[]> } | { error: string } {
  const out: Record<string, string[]> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) return { error: `Line ${i + 1} of the exclusions is not "Field = value".` };
    const field = line.slice(0, eq).trim();
    out[field] = [...(out[field] ?? []), line.slice(eq + 1).trim()];
  }
  return { exclude: out };
}

/** Turn on or off, level, exclusions: the tenant's setting of one rule. */
function SettingForm({ tenant, rule, after }: { tenant: string; rule: Rule; after: (token: string) => void }) {
  const [problems, setProblems] = useState<Refusal | null>(null);
  const core = rule.product === 'core';
  const save = useAction(async (form: HTMLFormElement) => {
    setProblems(null);
    const parsed = parseExclusions((form.elements.namedItem('exclude') as HTMLTextAreaElement).value);
    if ('error' in parsed) {
      setProblems({ code: 'STK_ERR_VALIDATION', problems: [{ path: 'exclude', reason: parsed.error }] });
      return;
    }
    const level = (form.elements.namedItem('level') as HTMLSelectElement).value as Level | '';
    const setting: RuleSetting = {
      ...(core ? {} : { enabled: (form.elements.namedItem('enabled') as HTMLInputElement).checked }),
      ...(level ? { level } : {}),
      ...(Object.keys(parsed.exclude).length ? { exclude: parsed.exclude } : {}),
    };
    try {
      const out = await api.put<{ consistencyToken: string }>(tpath(tenant, 'detection', 'rules', rule.id, 'setting'), setting);
      notify(`${rule.title}: setting saved`);
      after(out.consistencyToken);
    } catch (err) {
      const found = problemsOf(err);
      if (!found) throw err;
      setProblems(found);
    }
  });
  const reset = useAction(async () => {
    const v = await ask(`Back to ${rule.title} as shipped?`, [], { text: 'On, at its own level, with no exclusions.', confirm: 'Reset' });
    if (!v) return;
    const out = await request<{ consistencyToken: string }>('DELETE', `/ui/api${tpath(tenant, 'detection', 'rules', rule.id, 'setting')}`);
    notify(`${rule.title}: back as shipped`);
    after(out.consistencyToken);
  });
  return (
    <form
      class="setting-form"
      aria-label="This customer's setting of the rule"
      onSubmit={(ev) => {
        ev.preventDefault();
        void save.run(ev.currentTarget as HTMLFormElement);
      }}
    >
      <div class="field inline">
        <input id="rule-enabled" name="enabled" type="checkbox" defaultChecked={rule.enabled} disabled={core} />
        <label for="rule-enabled">On</label>
        {core ? <span class="hint">A core rule always runs; narrow it with exclusions.</span> : null}
      </div>
      <div class="field">
        <label for="rule-level">Level for this customer</label>
        <select id="rule-level" name="level" defaultValue={rule.setting?.level ?? ''}>
          <option value="">as shipped ({rule.defaultLevel})</option>
          {LEVELS.map((l) => (
            <option key={l} value={l}>
              {l}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="rule-exclude">Exclusions: one "Field = value" per line</label>
        <textarea id="rule-exclude" name="exclude" rows={4} spellcheck={false} class="code" defaultValue={exclusionsText(rule.setting?.exclude)} />
        <p class="hint">
          A match is dropped when a listed field has a listed value (* and ? are wildcards, case does not matter). Fields of {rule.logsource}: those the
          detection guide maps, for example User, Image, CommandLine.
        </p>
      </div>
      {problems ? <ProblemList refusal={problems} /> : null}
      <div class="toolbar">
        <button type="submit" class="primary" disabled={save.busy}>
          Save setting
        </button>
        {rule.setting ? (
          <button type="button" disabled={reset.busy} onClick={() => void reset.run()}>
            Back to the rule as shipped
          </button>
        ) : null}
      </div>
    </form>
  );
}

function RuleDetail(p: PageProps & { id: string }) {
  const [r, setR] = useState<Rule | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = async (waitFor?: string) => {
    try {
      setR(await api.get<Rule>(tpath(p.tenant, 'detection', 'rules', p.id), waitFor ? { waitFor } : {}));
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => {
    void load();
  }, [p.id]);
  useLive(['detection', 'tenant'], (_c, token) => void load(token));
  const remove = useAction(async () => {
    const v = await ask(`Remove the custom rule ${r?.title}?`, [], {
      text: 'It stops running at once; its past alerts stay.',
      confirm: 'Remove rule',
      danger: true,
    });
    if (!v) return;
    await request('DELETE', `/ui/api${tpath(p.tenant, 'detection', 'custom-rules', p.id)}`);
    notify(`${r?.title}: removed`);
    navigate(tenantHref(p.tenant, 'rules'));
  });
  useReady(r !== null || error !== null);
  if (error && !r) return <LoadError err={error} what="this rule" />;
  if (!r) return <p class="muted">Loading…</p>;
  const manage = p.can('detection.manage');
  return (
    <>
      <p>
        <a href={tenantHref(p.tenant, 'rules')}>← Rules</a>
      </p>
      <PageHeading>
        {r.title} <Badge value={r.level} /> <Badge value={runState(r).replace(' ', '-')} />
        {r.custom ? <Badge value="custom" /> : null}
      </PageHeading>
      {r.description ? <p>{r.description}</p> : null}
      <Section title="The rule">
        <Facts
          items={[
            ['Rule id', <code key="i">{r.id}</code>],
            ['Version', <code key="v">{r.version}</code>],
            r.custom ? ['Uploaded as', r.name ?? '—'] : null,
            ['Status', r.status ?? '—'],
            ['Level', r.level === r.defaultLevel ? r.level : `${r.level} for this customer (shipped ${r.defaultLevel})`],
            ['Product', r.product === 'core' ? 'core: runs for every customer' : r.product],
            ['Log source', <code key="l">{r.logsource}</code>],
            ['ATT&CK', <Techniques key="a" ids={r.attack} />],
            ['Tags', r.tags.join(', ') || '—'],
            ['False positives', r.falsepositives.join('; ') || '—'],
            ['Grouping', `one alert per host${r.groupBy.length ? ` and ${r.groupBy.join(', ')}` : ''} within ${Math.round(r.windowMs / 60_000)} min`],
            [
              'Alerts',
              <a key="al" href={`${tenantHref(p.tenant, 'alerts')}?status=&q=${encodeURIComponent(r.id)}`}>
                alerts of this rule
              </a>,
            ],
          ]}
        />
      </Section>
      <Section title="This customer's setting">
        {manage ? (
          <SettingForm key={JSON.stringify(r.setting)} tenant={p.tenant} rule={r} after={(t) => void load(t)} />
        ) : (
          <Facts
            items={[
              ['On', r.enabled ? 'yes' : 'no'],
              ['Level', r.setting?.level ?? `as shipped (${r.defaultLevel})`],
              ['Exclusions', r.setting?.exclude ? <pre key="e">{exclusionsText(r.setting.exclude)}</pre> : 'none'],
            ]}
          />
        )}
      </Section>
      <Section title="Source">
        {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling box must be focusable to be scrolled by keyboard (WCAG 2.1.1) */}
        <section class="source-box" aria-label="Rule source" tabIndex={0}>
          <pre class="source" data-rule-source>
            {(r.source ?? '').split('\n').map((line, i) => (
              <span key={`${i}-${line}`} class="source-line">
                <span class="ln" aria-hidden="true">
                  {i + 1}
                </span>
                {line}
                {'\n'}
              </span>
            ))}
          </pre>
        </section>
      </Section>
      {r.custom && manage ? (
        <Section title="Replace this custom rule">
          <CustomRuleEditor key={r.version} tenant={p.tenant} rule={r} onSaved={(x) => void load(x.consistencyToken)} />
          <p>
            <button type="button" class="danger" disabled={remove.busy} onClick={() => void remove.run()}>
              Remove this custom rule
            </button>
          </p>
        </Section>
      ) : null}
    </>
  );
}
