/**
 * Debian control-file ("deb822") parsing: the dpkg status file, Packages indexes, Release files.
 * A stanza is a map of field name to value; a multi-line value keeps its continuation lines
 * (without their leading space) joined by `\n`.
 */

export type Stanza = Record<string, string>;

/** Parses every stanza of a deb822 text; `onStanza` sees each one as it is completed, so a caller can keep only what it needs. */
export function parseDeb822(text: string, onStanza?: (s: Stanza) => void): Stanza[] {
  const out: Stanza[] = [];
  let current: Stanza | null = null;
  let lastField: string | null = null;
  const emit = (): void => {
    if (current) {
      if (onStanza) onStanza(current);
      else out.push(current);
    }
    current = null;
    lastField = null;
  };
  let pos = 0;
  const n = text.length;
  while (pos <= n) {
    let end = text.indexOf('\n', pos);
    if (end === -1) end = n;
    // A CR before the LF belongs to the line ending, not the value.
    const lineEnd = end > pos && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
    if (lineEnd === pos || isBlank(text, pos, lineEnd)) {
      emit();
    } else {
      const c = text.charCodeAt(pos);
      if (c === 32 || c === 9) {
        if (current && lastField !== null) current[lastField] += `\n${text.slice(pos + 1, lineEnd)}`;
      } else if (c !== 35 /* # comment */) {
        const colon = text.indexOf(':', pos);
        if (colon !== -1 && colon < lineEnd) {
          const name = text.slice(pos, colon);
          current ??= {};
          current[name] = text.slice(colon + 1, lineEnd).trim();
          lastField = name;
        }
      }
    }
    pos = end + 1;
  }
  emit();
  return out;
}

function isBlank(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

/**
 * The signed text of an OpenPGP clear-signed message (an `InRelease` file), dash-escaping undone;
 * text that is not clear-signed is returned as it is. The signature is not checked here: apt has
 * checked it when it fetched the file, and a `[trusted=yes]` source has none.
 */
export function clearsignedBody(text: string): string {
  if (!text.startsWith('-----BEGIN PGP SIGNED MESSAGE-----')) return text;
  const headersEnd = text.search(/\r?\n\r?\n/);
  const sigStart = text.indexOf('\n-----BEGIN PGP SIGNATURE-----');
  if (headersEnd === -1) return '';
  const body = text.slice(text.indexOf('\n', headersEnd + 1) + 1, sigStart === -1 ? undefined : sigStart + 1);
  return body.replace(/^- /gm, '');
}
