import { useState } from 'preact/hooks';
import { encode } from 'uqr';
import { useAction } from '../lib/act.ts';
import { api } from '../lib/api.ts';
import { notify } from '../lib/notices.tsx';
import { Field } from './bits.tsx';

/**
 * A QR code drawn as one SVG path (no image, no inline style: the page's CSP allows neither
 * `unsafe-inline` nor remote images). An authenticator app scans it; the same URI is shown as text.
 */
export function QrCode({ text, label }: { text: string; label: string }) {
  const qr = encode(text, { ecc: 'M', border: 2 });
  let d = '';
  for (const [y, row] of qr.data.entries()) {
    for (const [x, dark] of row.entries()) if (dark) d += `M${x} ${y}h1v1h-1z`;
  }
  return (
    <svg class="qr" viewBox={`0 0 ${qr.size} ${qr.size}`} role="img" aria-label={label} shape-rendering="crispEdges">
      <rect class="qr-light" width={qr.size} height={qr.size} />
      <path class="qr-dark" d={d} />
    </svg>
  );
}

/** Copies a value to the clipboard, saying so. */
export function CopyButton({ value, label = 'Copy', what }: { value: string; label?: string; what: string }) {
  return (
    <button
      type="button"
      onClick={() =>
        void navigator.clipboard.writeText(value).then(
          () => notify(`${what} copied`),
          () => notify(`Select ${what.toLowerCase()} and copy it by hand`, 'info'),
        )
      }
    >
      {label}
    </button>
  );
}

/** Recovery codes, shown once: a list to copy or download, and a box that says they were saved. */
export function RecoveryCodes({ codes, onSaved }: { codes: string[]; onSaved?: (saved: boolean) => void }) {
  const text = `Stockade recovery codes (each works once)\n\n${codes.join('\n')}\n`;
  const [href] = useState(() => URL.createObjectURL(new Blob([text], { type: 'text/plain' })));
  return (
    <div class="once" data-recovery-codes>
      <h3>Your recovery codes</h3>
      <p>
        Keep these somewhere safe, away from your phone. Each one signs you in once if you lose your authenticator app. They are shown <strong>only now</strong>
        .
      </p>
      <ol class="codes">
        {codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ol>
      <div class="toolbar">
        <CopyButton value={codes.join('\n')} label="Copy codes" what="Recovery codes" />
        <a class="button" href={href} download="stockade-recovery-codes.txt">
          Download codes
        </a>
      </div>
      {onSaved ? (
        <div class="field inline">
          <input id="codes-saved" type="checkbox" onChange={(ev) => onSaved((ev.currentTarget as HTMLInputElement).checked)} />
          <label for="codes-saved">I have saved my recovery codes</label>
        </div>
      ) : null}
    </div>
  );
}

interface Setup {
  secret: string;
  uri: string;
  ticket: string;
}

/**
 * Setting up TOTP: a QR code and its otpauth URI (and the secret, for typing in by hand), then a
 * code from the app to confirm it, then the recovery codes, shown once.
 */
export function TotpSetup({ onDone }: { onDone: (codes: string[]) => void }) {
  const [setup, setSetup] = useState<Setup | null>(null);
  const start = useAction(async () => setSetup(await api.post<Setup>('/me/mfa/totp')));
  const confirm = useAction(async (form: HTMLFormElement) => {
    const code = String(new FormData(form).get('code') ?? '').trim();
    const out = await api.post<{ recoveryCodes: string[] }>('/me/mfa/totp/confirm', { ticket: setup!.ticket, code });
    notify('Authenticator app set up');
    onDone(out.recoveryCodes);
  });
  if (!setup) {
    return (
      <p>
        <button type="button" class="primary" disabled={start.busy} onClick={() => void start.run()}>
          Set up an authenticator app
        </button>
      </p>
    );
  }
  return (
    <div class="totp-setup">
      <ol class="steps">
        <li>
          <p>Scan this code with an authenticator app (any app for TOTP codes, such as those of Google, Microsoft or 1Password).</p>
          <QrCode text={setup.uri} label="QR code of the authenticator set-up link" />
          <details>
            <summary>Cannot scan it?</summary>
            <Field label="Set-up link" id="otpauth-uri">
              <input id="otpauth-uri" name="otpauth-uri" readOnly value={setup.uri} class="secret" spellcheck={false} />
            </Field>
            <p>
              Or type this key into the app: <code data-totp-secret>{setup.secret.replace(/(.{4})/g, '$1 ').trim()}</code>
            </p>
          </details>
        </li>
        <li>
          <form
            class="inline-form"
            aria-label="Confirm the authenticator"
            onSubmit={(ev) => {
              ev.preventDefault();
              const form = ev.currentTarget as HTMLFormElement;
              if (form.reportValidity()) void confirm.run(form);
            }}
          >
            <Field label="Code the app shows now" id="totp-confirm">
              <input
                id="totp-confirm"
                name="code"
                inputMode="numeric"
                autoComplete="one-time-code"
                required
                pattern="[0-9]{6}"
                placeholder="123456"
                maxLength={6}
                spellcheck={false}
              />
            </Field>
            <button type="submit" class="primary" disabled={confirm.busy}>
              Confirm
            </button>
          </form>
        </li>
      </ol>
    </div>
  );
}
