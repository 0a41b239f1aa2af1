import { useRef, useState } from 'preact/hooks';
import { notify, notifyError } from './notices.tsx';

/**
 * Runs a change once: while it runs, further calls are ignored (a double click sends one request)
 * and `busy` is true for the buttons to show it. A failure becomes an error notice with a Retry that
 * runs the same change again; success may say so. Returns the result, or undefined on failure.
 */
export function useAction<A extends unknown[], T>(fn: (...args: A) => Promise<T>, o: { done?: string | ((out: T) => string) } = {}) {
  const running = useRef(false);
  const [busy, setBusy] = useState(false);
  const run = async (...args: A): Promise<T | undefined> => {
    // A ref, not state: the second click of a double click arrives before the re-render.
    if (running.current) return undefined;
    running.current = true;
    setBusy(true);
    try {
      const out = await fn(...args);
      if (o.done) notify(typeof o.done === 'string' ? o.done : o.done(out), 'ok');
      return out;
    } catch (err) {
      notifyError(err, () => void run(...args));
      return undefined;
    } finally {
      running.current = false;
      setBusy(false);
    }
  };
  return { run, busy };
}

/** The same for code outside a component: one run at a time per key. */
const runningKeys = new Set<string>();
export async function actOnce<T>(key: string, fn: () => Promise<T>, done?: string): Promise<T | undefined> {
  if (runningKeys.has(key)) return undefined;
  runningKeys.add(key);
  try {
    const out = await fn();
    if (done) notify(done, 'ok');
    return out;
  } catch (err) {
    notifyError(err, () => void actOnce(key, fn, done));
    return undefined;
  } finally {
    runningKeys.delete(key);
  }
}
