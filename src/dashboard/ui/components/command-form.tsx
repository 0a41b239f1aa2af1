import type { JsonSchema } from '../lib/page.ts';

/**
 * A form for one agent command, built from its action's argument schema (`src/domain/actions.ts`):
 * strings and enums become fields and selects, integers number fields, booleans checkboxes, lists
 * a field of one item per line. The browser checks what the schema says it can (required, pattern,
 * bounds); the API checks it all again.
 */
export function ArgsFields({ action, schema }: { action: string; schema: JsonSchema }) {
  const props = Object.entries(schema.properties ?? {});
  if (!props.length) return <p class="muted small">{schema.description ?? 'This command takes no arguments.'}</p>;
  return (
    <>
      {schema.description ? <p class="muted small">{schema.description}</p> : null}
      {props.map(([name, s]) => {
        const id = `arg-${action}-${name}`;
        const required = schema.required?.includes(name) ?? false;
        const label = `${s.title ?? name}${required ? '' : ' (optional)'}`;
        let control: preact.JSX.Element;
        if (s.enum) {
          control = (
            <select id={id} name={name} required={required}>
              {!required ? <option value="">—</option> : null}
              {s.enum.map((v) => (
                <option key={v} value={v}>
                  {v}
                </option>
              ))}
            </select>
          );
        } else if (s.type === 'boolean') {
          control = <input id={id} name={name} type="checkbox" />;
        } else if (s.type === 'integer' || s.type === 'number') {
          control = (
            <input
              id={id}
              name={name}
              type="number"
              inputMode="numeric"
              required={required}
              min={s.minimum}
              max={s.maximum}
              step={s.type === 'integer' ? 1 : 'any'}
              defaultValue={typeof s.default === 'number' ? String(s.default) : ''}
            />
          );
        } else if (s.type === 'array') {
          control = <textarea id={id} name={name} rows={3} required={required} aria-describedby={`${id}-hint`} />;
        } else {
          control = (
            <input
              id={id}
              name={name}
              required={required}
              minLength={s.minLength}
              maxLength={s.maxLength}
              pattern={s.pattern ? vPattern(s.pattern) : undefined}
              autoComplete="off"
              spellcheck={false}
            />
          );
        }
        return (
          <div class={s.type === 'boolean' ? 'field inline' : 'field'} key={name}>
            <label for={id}>{label}</label>
            {control}
            {s.type === 'array' ? (
              <p class="hint" id={`${id}-hint`}>
                One per line.
              </p>
            ) : s.description ? (
              <p class="hint">{s.description}</p>
            ) : null}
          </div>
        );
      })}
    </>
  );
}

/** The `args` object of a command form, shaped by the schema. */
export function argsOf(form: HTMLFormElement, schema: JsonSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(schema.properties ?? {})) {
    const el = form.elements.namedItem(name) as HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement | null;
    if (!el) continue;
    if (s.type === 'boolean') {
      out[name] = (el as HTMLInputElement).checked;
      continue;
    }
    const raw = el.value.trim();
    if (raw === '') continue;
    if (s.type === 'integer' || s.type === 'number') out[name] = Number(raw);
    else if (s.type === 'array') {
      const items = raw
        .split(/[\n,]/)
        .map((x) => x.trim())
        .filter(Boolean);
      out[name] = s.items?.type === 'integer' ? items.map(Number) : items;
    } else out[name] = raw;
  }
  return out;
}

/**
 * A JSON-schema pattern as an `<input pattern>`: the browser anchors it and compiles it with the `v`
 * flag. A JSON-schema pattern is not anchored, so a side without its anchor matches anything there
 * (`^/` — "starts with a slash" — is `/.*`, not "exactly a slash"); the anchors themselves go, and
 * inside classes the characters v-mode reserves are escaped (a `-` that is not a range, brackets,
 * braces, parentheses, `/`, `|`).
 */
export function vPattern(p: string): string {
  const start = p.startsWith('^');
  const end = p.endsWith('$') && !p.endsWith('\\$');
  const core = p.slice(start ? 1 : 0, end ? -1 : undefined);
  let out = '';
  let inClass = false;
  for (let i = 0; i < core.length; i++) {
    const c = core[i]!;
    if (c === '\\') {
      out += c + (core[i + 1] ?? '');
      i++;
      continue;
    }
    if (!inClass) {
      if (c === '[') inClass = true;
      out += c;
      continue;
    }
    if (c === ']') {
      inClass = false;
      out += c;
      continue;
    }
    const prev = core[i - 1];
    const next = core[i + 1];
    const isRange = c === '-' && prev !== '[' && next !== ']' && next !== undefined;
    out += '()[]{}/|'.includes(c) || (c === '-' && !isRange) ? `\\${c}` : c;
  }
  return start && end ? out : `${start ? '' : '.*'}(?:${out})${end ? '' : '.*'}`;
}
