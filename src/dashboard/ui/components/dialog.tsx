import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

/** A field of a dialog's form. */
export interface DialogField {
  name: string;
  label: string;
  kind?: 'text' | 'textarea' | 'select' | 'checkbox';
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
