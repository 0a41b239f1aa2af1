import { useEffect, useState } from 'preact/hooks';
import { explain } from './errors.ts';

/**
 * The one notice component. Notices fade by themselves (errors stay until closed); a burst of the
 * same kind of news (300 alerts in one batch) is one notice whose count grows, and one announcement
 * to screen readers once the burst is over — never one per item.
 */
export interface Notice {
  id: number;
  kind: 'info' | 'ok' | 'error' | 'alert';
  text: string;
  code?: string;
  detail?: string | null;
  retry?: () => void;
  group?: string;
  count: number;
}

const VISIBLE_MS = 6_000;
const ANNOUNCE_QUIET_MS = 1_200;
let notices: Notice[] = [];
let announcement = '';
let seq = 0;
const listeners = new Set<() => void>();
const timers = new Map<number, ReturnType<typeof setTimeout>>();
let announceTimer: ReturnType<typeof setTimeout> | null = null;

function changed(): void {
  for (const l of [...listeners]) l();
}

function schedule(n: Notice): void {
  const old = timers.get(n.id);
  if (old) clearTimeout(old);
  if (n.kind === 'error') return;
  timers.set(
    n.id,
    setTimeout(() => dismiss(n.id), VISIBLE_MS),
  );
}

/** Removes a notice. */
export function dismiss(id: number): void {
  notices = notices.filter((n) => n.id !== id);
  timers.delete(id);
  changed();
}

/** Says something to screen readers, once, after a quiet moment (later calls replace earlier ones). */
export function announce(text: string): void {
  if (announceTimer) clearTimeout(announceTimer);
  announceTimer = setTimeout(() => {
    announcement = text;
    changed();
  }, ANNOUNCE_QUIET_MS);
}

/** Shows a notice. */
export function notify(text: string, kind: Notice['kind'] = 'ok'): void {
  const n: Notice = { id: ++seq, kind, text, count: 1 };
  notices = [...notices.slice(-4), n];
  schedule(n);
  announce(text);
  changed();
}

/**
 * Counts one more piece of news of a group: the group's notice (while visible) says how many
 * (`text(count)`), and screen readers hear the total once the burst is over.
 */
export function notifyGroup(group: string, add: number, text: (count: number) => string, kind: Notice['kind'] = 'alert'): void {
  const existing = notices.find((n) => n.group === group);
  const count = (existing?.count ?? 0) + add;
  const n: Notice = existing ? { ...existing, count, text: text(count) } : { id: ++seq, kind, text: text(count), group, count };
  notices = existing ? notices.map((x) => (x.id === n.id ? n : x)) : [...notices.slice(-4), n];
  schedule(n);
  announce(n.text);
  changed();
}

/** Shows an error as a sentence with its code, and a Retry button when trying again makes sense. */
export function notifyError(err: unknown, retry?: () => void): void {
  const e = explain(err);
  const n: Notice = {
    id: ++seq,
    kind: 'error',
    text: e.sentence,
    code: e.code,
    detail: e.detail,
    count: 1,
    ...(retry && e.retryable ? { retry } : {}),
  };
  notices = [...notices.filter((x) => x.kind !== 'error').slice(-4), n];
  changed();
}

/** The notices and the screen-reader announcer, mounted once by the shell. */
export function Notices() {
  const [, setTick] = useState(0);
  useEffect(() => {
    const l = () => setTick((t) => t + 1);
    listeners.add(l);
    return () => {
      listeners.delete(l);
    };
  }, []);
  return (
    <>
      <div class="toasts" id="toasts">
        {notices.map((n) => (
          <div key={n.id} class={`toast t-${n.kind}`} role={n.kind === 'error' ? 'alert' : undefined} data-group={n.group}>
            <span class="toast-text">{n.text}</span>
            {n.code ? <code class="toast-code">{n.code}</code> : null}
            {n.detail ? <span class="toast-detail">{n.detail}</span> : null}
            <span class="toast-actions">
              {n.retry ? (
                <button
                  type="button"
                  onClick={() => {
                    dismiss(n.id);
                    n.retry!();
                  }}
                >
                  Retry
                </button>
              ) : null}
              <button type="button" class="toast-close" aria-label="Dismiss notice" onClick={() => dismiss(n.id)}>
                ×
              </button>
            </span>
          </div>
        ))}
      </div>
      <div class="sr" role="status" aria-live="polite" id="announcer">
        {announcement}
      </div>
    </>
  );
}
