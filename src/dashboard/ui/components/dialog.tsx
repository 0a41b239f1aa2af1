import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

/** What a lookup field's search found: choices `[value, text]`, whether more match than are shown, and how many match (null: not counted). */
export interface LookupResult {
  options: Array<[string, string]>;
  more: boolean;
  total: number | null;
}

/** A field of a dialog's form. */
export interface DialogField {
  name: string;
  label: string;
  /** `lookup`: a search box whose text the server searches (`lookup`), and a list of what it found to pick from. */
  kind?: 'text' | 'textarea' | 'select' | 'checkbox' | 'lookup';
  lookup?: (q: string) => Promise<LookupResult>;
  options?: Array<[string, string]>;
  required?: boolean;
  maxLength?: number;
  value?: string | boolean;
  hint?: string;
}

interface Open {
  title: string;
  text?: ComponentChildren;
  fields: DialogField[];
  confirm: string;
  danger: boolean;
  resolve: (v: Record<string, string | boolean> | null) => void;
}

let show: ((o: Open | null) => void) | null = null;

/**
 * Asks for a confirmation, with fields if any: resolves with the values, or null when cancelled
 * (Cancel, Esc). One dialog at a time; focus returns to where it was.
 */
export function ask(
  title: string,
  fields: DialogField[] = [],
  o: { text?: ComponentChildren; confirm?: string; danger?: boolean } = {},
): Promise<Record<string, string | boolean> | null> {
  return new Promise((resolve) => {
    if (!show) return resolve(null);
    show({ title, fields, confirm: o.confirm ?? 'OK', danger: o.danger ?? false, resolve, ...(o.text !== undefined ? { text: o.text } : {}) });
  });
}

/** Where dialogs are drawn; mounted once by the shell. */
export function DialogHost() {
  const [open, setOpen] = useState<Open | null>(null);
  const ref = useRef<HTMLDialogElement>(null);
  const back = useRef<Element | null>(null);
  useEffect(() => {
    show = (o) => {
      back.current = document.activeElement;
      setOpen(o);
    };
    return () => {
      show = null;
    };
  }, []);
  useEffect(() => {
    if (open && ref.current && !ref.current.open) ref.current.showModal();
  }, [open]);
  if (!open) return null;
  const finish = (values: Record<string, string | boolean> | null) => {
    ref.current?.close();
    setOpen(null);
    open.resolve(values);
    if (back.current instanceof HTMLElement && back.current.isConnected) back.current.focus();
  };
  const onSubmit = (ev: Event) => {
    ev.preventDefault();
    const form = ev.currentTarget as HTMLFormElement;
    if (!form.reportValidity()) return;
    const values: Record<string, string | boolean> = {};
    for (const f of open.fields) {
      const el = form.elements.namedItem(f.name) as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement | null;
      if (!el) continue;
      values[f.name] = el instanceof HTMLInputElement && el.type === 'checkbox' ? el.checked : el.value.trim();
      if (f.required && values[f.name] === '') {
        el.focus();
        return;
      }
    }
    finish(values);
  };
  return (
    <dialog
      ref={ref}
      aria-labelledby="dialog-title"
      onCancel={(ev) => {
        ev.preventDefault();
        finish(null);
      }}
    >
      <form method="dialog" onSubmit={onSubmit}>
        <h2 id="dialog-title">{open.title}</h2>
        {open.text ? <div class="dialog-text">{open.text}</div> : null}
        {open.fields.map((f) => {
          const id = `dlg-${f.name}`;
          if (f.kind === 'lookup' && f.lookup) return <LookupField key={f.name} field={f} lookup={f.lookup} />;
          const control =
            f.kind === 'select' ? (
              <select id={id} name={f.name}>
                {(f.options ?? []).map(([v, t]) => (
                  <option key={v} value={v} selected={v === f.value}>
                    {t}
                  </option>
                ))}
              </select>
            ) : f.kind === 'textarea' ? (
              <textarea id={id} name={f.name} rows={4} required={f.required} maxLength={f.maxLength} defaultValue={String(f.value ?? '')} />
            ) : f.kind === 'checkbox' ? (
              <input id={id} name={f.name} type="checkbox" defaultChecked={f.value === true} />
            ) : (
              <input id={id} name={f.name} required={f.required} maxLength={f.maxLength} defaultValue={String(f.value ?? '')} autoComplete="off" />
            );
          return (
            <div class={f.kind === 'checkbox' ? 'field inline' : 'field'} key={f.name}>
              <label for={id}>{f.label}</label>
              {control}
              {f.hint ? <p class="hint">{f.hint}</p> : null}
            </div>
          );
        })}
        <div class="actions">
          <button type="submit" class={open.danger ? 'danger' : 'primary'}>
            {open.confirm}
          </button>
          <button type="button" onClick={() => finish(null)}>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}

/**
 * A choice among everything the server finds for a search (every incident of a customer, not a
 * first page of them): each keystroke asks again, the newest answer wins, and the field says how
 * many matched and that typing narrows it when not all are shown.
 */
function LookupField({ field: f, lookup }: { field: DialogField; lookup: (q: string) => Promise<LookupResult> }) {
  const [q, setQ] = useState('');
  const [found, setFound] = useState<LookupResult | null>(null);
  const [failed, setFailed] = useState(false);
  const gen = useRef(0);
  useEffect(() => {
    const mine = ++gen.current;
    lookup(q).then(
      (r) => {
        if (mine !== gen.current) return;
        setFound(r);
        setFailed(false);
      },
      () => mine === gen.current && setFailed(true),
    );
  }, [q]);
  const id = `dlg-${f.name}`;
  const shown = found?.options.length ?? 0;
  const status = failed
    ? 'The search failed; type again to retry.'
    : found === null
      ? 'Searching…'
      : shown === 0
        ? 'Nothing matches.'
        : found.more
          ? `${shown} shown${found.total !== null ? ` of ${found.total} matching` : ''}; type to narrow the search.`
          : `${shown} matching.`;
  return (
    <div class="field lookup">
      <label for={`${id}-q`}>Search {f.label.toLowerCase()}s</label>
      <input
        id={`${id}-q`}
        type="search"
        maxLength={200}
        autoComplete="off"
        value={q}
        onInput={(ev) => setQ((ev.currentTarget as HTMLInputElement).value)}
        onKeyDown={(ev) => {
          // Enter searches (it already did, as the text changed); it must not confirm the dialog.
          if (ev.key === 'Enter') ev.preventDefault();
        }}
      />
      <label for={id}>{f.label}</label>
      <select id={id} name={f.name} required={f.required} size={Math.min(Math.max(shown, 2), 8)}>
        {(found?.options ?? []).map(([v, t], i) => (
          <option key={v} value={v} selected={i === 0}>
            {t}
          </option>
        ))}
      </select>
      <p class="hint" role="status">
        {status}
      </p>
    </div>
  );
}
