/**
 * Half-typed forms survive the end of a session: before the page goes to sign-in, the values of
 * every named field of the page's forms are kept in this tab's sessionStorage under the page's
 * address; when the page is drawn again after sign-in they are put back, once. Passwords and
 * secrets are never kept.
 */
const KEY = 'stk-drafts';

type Drafts = Record<string, Record<string, Record<string, string | boolean>>>;

function formKey(form: HTMLFormElement, i: number): string {
  return form.getAttribute('aria-label') ?? form.getAttribute('name') ?? `form-${i}`;
}

/** Keeps what is typed in the page's forms, for the same address after sign-in. */
export function saveDrafts(): void {
  const forms: Record<string, Record<string, string | boolean>> = {};
  document.querySelectorAll<HTMLFormElement>('main form').forEach((form, i) => {
    const values: Record<string, string | boolean> = {};
    for (const el of Array.from(form.elements)) {
      if (!(el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement) || !el.name) continue;
      if (el instanceof HTMLInputElement && (el.type === 'password' || el.type === 'hidden' || el.readOnly)) continue;
      values[el.name] = el instanceof HTMLInputElement && el.type === 'checkbox' ? el.checked : el.value;
    }
    if (Object.values(values).some((v) => v !== '' && v !== false)) forms[formKey(form, i)] = values;
  });
  if (!Object.keys(forms).length) return;
  try {
    sessionStorage.setItem(KEY, JSON.stringify({ [location.pathname + location.search]: forms } satisfies Drafts));
  } catch {
    // storage full or off: the form is lost, as it was before
  }
}

/** Puts kept values back into the page's forms (once) and says whether there were any. */
export function restoreDrafts(): boolean {
  let all: Drafts;
  try {
    all = JSON.parse(sessionStorage.getItem(KEY) ?? '{}') as Drafts;
  } catch {
    return false;
  }
  const mine = all[location.pathname + location.search];
  if (!mine) return false;
  sessionStorage.removeItem(KEY);
  document.querySelectorAll<HTMLFormElement>('main form').forEach((form, i) => {
    const values = mine[formKey(form, i)];
    if (!values) return;
    for (const [name, value] of Object.entries(values)) {
      const el = form.elements.namedItem(name);
      if (el instanceof HTMLInputElement && el.type === 'checkbox') el.checked = value === true;
      else if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement) el.value = String(value);
      else continue;
      // Components that follow their fields hear of the change as if typed.
      (el as HTMLElement).dispatchEvent(new Event('input', { bubbles: true }));
    }
  });
  return true;
}
