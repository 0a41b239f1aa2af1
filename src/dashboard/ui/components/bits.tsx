import type { ComponentChildren } from 'preact';
import { tenantHref } from '../lib/router.ts';
import { ago, fmtTime, short } from '../lib/format.ts';

/** A coloured word: status, severity, connectivity. */
export function Badge({ value }: { value: string }) {
  return <span class={`badge b-${value.replace(/[^a-z0-9-]/gi, '')}`}>{value}</span>;
}

/** A time as "5m ago", the exact UTC time on hover. */
export function Ago({ at }: { at: string | null | undefined }) {
  return (
    <time dateTime={at ?? undefined} title={fmtTime(at)}>
      {ago(at)}
    </time>
  );
}

/** An agent by its host name (the id on hover and in the link); the id where the name is unknown. */
export function Host({ tenant, agentId, hostname }: { tenant: string; agentId: string; hostname?: string | null | undefined }) {
  return (
    <a href={tenantHref(tenant, 'agents', agentId)} title={`agent ${agentId}`} class="host">
      {hostname ?? short(agentId, 12)}
    </a>
  );
}

/** An id shown short, in full on hover. */
export function Id({ id, n = 12 }: { id: string; n?: number }) {
  return (
    <code title={id} class="id">
      {short(id, n)}
    </code>
  );
}

/** The page's heading; focus goes here after following a link in the page. */
export function PageHeading({ children }: { children: ComponentChildren }) {
  return (
    <h1 tabIndex={-1} id="page-heading">
      {children}
    </h1>
  );
}

/** A labelled field wrapper. */
export function Field({ label, id, children, hint, class: cls }: { label: string; id: string; children: ComponentChildren; hint?: string; class?: string }) {
  return (
    <div class={`field${cls ? ` ${cls}` : ''}`}>
      <label for={id}>{label}</label>
      {children}
      {hint ? (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
    </div>
  );
}

/** A key/value list. */
export function Facts({ items }: { items: Array<[string, ComponentChildren] | null | false> }) {
  return (
    <dl class="kv">
      {items.filter((x): x is [string, ComponentChildren] => Array.isArray(x)).map(([k, v]) => [<dt key={`t-${k}`}>{k}</dt>, <dd key={`d-${k}`}>{v}</dd>])}
    </dl>
  );
}

/** A card section with a heading. */
export function Section({ title, children, class: cls, label }: { title: string; children: ComponentChildren; class?: string; label?: string }) {
  return (
    <section class={`card${cls ? ` ${cls}` : ''}`} aria-label={label ?? title}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

/**
 * A table's own scrolling box: on a narrow screen a wide table scrolls here, never the page. It
 * takes focus so that keyboard users can scroll it too.
 */
export function ScrollBox({ label, busy, children }: { label: string; busy?: boolean; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling box must be focusable to be scrolled by keyboard (WCAG 2.1.1; axe scrollable-region-focusable)
    <section class="table-wrap" aria-label={label} tabIndex={0} {...(busy !== undefined ? { 'aria-busy': busy ? 'true' : 'false' } : {})}>
      {children}
    </section>
  );
}

/**
 * Preformatted text that may be long (command output, JSON): it scrolls in its own box, which takes
 * focus like ScrollBox, so a keyboard can scroll it too (axe scrollable-region-focusable).
 */
export function ScrollPre({ label, kind, children }: { label: string; kind: 'json' | 'output'; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling box must be focusable to be scrolled by keyboard (WCAG 2.1.1)
    <section class="pre-box" aria-label={label} tabIndex={0}>
      <pre class={kind}>{children}</pre>
    </section>
  );
}

/** Who acted, as a word: a person's name, an agent's host name, a service token's label, "Stockade"; the raw principal where nothing names it. */
export function whoText(raw: string | null | undefined, name?: string | null): string {
  if (!raw) return '—';
  if (!name) return raw;
  if (raw.startsWith('agent:')) return `${name} (agent)`;
  if (raw.startsWith('operator:token:')) return `${name} (service token)`;
  return name;
}

/** Who acted (`whoText`), with the e-mail, where the API gives it, and the raw principal on hover. */
export function Who({ raw, name, email }: { raw: string | null | undefined; name?: string | null | undefined; email?: string | null | undefined }) {
  return (
    <span class="who" title={[email, raw].filter(Boolean).join(' · ') || undefined} data-principal={raw ?? undefined}>
      {whoText(raw, name)}
    </span>
  );
}
