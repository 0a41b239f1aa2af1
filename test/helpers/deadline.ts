/** Rejects when `p` has not settled within `ms` (a generous deadline, not a timing assertion). */
export function withDeadline<T>(p: Promise<T>, what: string, ms = 30_000): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`waited ${ms} ms for ${what}`)), ms);
    }),
  ]);
}
