import { StkError } from '../../errors.ts';

/**
 * Debian package names (Policy §5.6.1: lower-case letters, digits, `+`, `-`, `.`, at least two
 * characters, starting with a letter or digit) with apt's optional `:<arch>` qualifier. The first
 * character can never be `-`, so a name can never be read as an option by the tools.
 */
const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+(?::[a-z0-9][a-z0-9-]*)?$/;
const MAX_PACKAGE_NAME = 128;
/** Debian version strings (Policy §5.6.12), as they come back from dpkg and apt. */

/** True when `name` is a Debian package name, optionally arch-qualified. */
export function isPackageName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= MAX_PACKAGE_NAME && PACKAGE_NAME.test(name);
}

/** Throws STK_ERR_PATCH_PACKAGE_INVALID unless `name` is a Debian package name; the value is echoed only when short. */
export function assertPackageName(name: unknown): asserts name is string {
  if (!isPackageName(name)) {
    const shown = typeof name === 'string' && name.length <= 80 ? name : typeof name;
    throw new StkError('STK_ERR_PATCH_PACKAGE_INVALID', `not a Debian package name: ${JSON.stringify(shown)}`, { package: shown });
  }
}

function order(c: number): number {
  if (c >= 48 && c <= 57) return 0;
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) return c;
  if (c === 126 /* ~ */) return -1;
  return c ? c + 256 : 0;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** dpkg's comparison of one upstream or revision part: alternating non-digit runs (`~` first, letters before other signs) and numbers. */
function compareFragment(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a.charCodeAt(i))) || (j < b.length && !isDigit(b.charCodeAt(j)))) {
      const ac = i < a.length ? order(a.charCodeAt(i)) : 0;
      const bc = j < b.length ? order(b.charCodeAt(j)) : 0;
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (i < a.length && a.charCodeAt(i) === 48) i++;
    while (j < b.length && b.charCodeAt(j) === 48) j++;
    while (i < a.length && j < b.length && isDigit(a.charCodeAt(i)) && isDigit(b.charCodeAt(j))) {
      if (!firstDiff) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (i < a.length && isDigit(a.charCodeAt(i))) return 1;
    if (j < b.length && isDigit(b.charCodeAt(j))) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

function split(v: string): { epoch: number; upstream: string; revision: string } {
  const colon = v.indexOf(':');
  const epoch = colon === -1 ? 0 : Number(v.slice(0, colon));
  const rest = colon === -1 ? v : v.slice(colon + 1);
  const dash = rest.lastIndexOf('-');
  return dash === -1 ? { epoch, upstream: rest, revision: '' } : { epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1) };
}

/** Compares two Debian versions as `dpkg --compare-versions` does: negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
  const va = split(a);
  const vb = split(b);
  if (va.epoch !== vb.epoch) return va.epoch - vb.epoch;
  return compareFragment(va.upstream, vb.upstream) || compareFragment(va.revision, vb.revision);
}
