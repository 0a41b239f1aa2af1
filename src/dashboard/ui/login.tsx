/**
 * Sign-in: the credential goes to the server once; what comes back is an HttpOnly session cookie.
 * After sign-in the browser returns to the page it was on when its session ended (`?next=`).
 */
const form = document.getElementById('signin') as HTMLFormElement;
const error = document.getElementById('error')!;
const next = new URLSearchParams(location.search).get('next');

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  error.textContent = '';
  const field = form.elements.namedItem('credential') as HTMLInputElement;
  const credential = field.value.trim();
  if (!credential) {
    error.textContent = 'Enter the admin key or a tenant token.';
    return;
  }
  const button = form.querySelector('button')!;
  button.disabled = true;
  let res: Response;
  try {
    res = await fetch(`/ui/session${next ? `?next=${encodeURIComponent(next)}` : ''}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ credential }),
      credentials: 'same-origin',
    });
  } catch {
    error.textContent = 'Stockade could not be reached. Check the connection, then try again.';
    button.disabled = false;
    return;
  }
  if (res.status === 201) {
    const body = (await res.json()) as { home: string };
    location.assign(body.home);
    return;
  }
  button.disabled = false;
  field.value = '';
  error.textContent =
    res.status === 401
      ? 'That key or token is not valid.'
      : res.status === 429
        ? 'Too many failed attempts from here; wait a minute and try again.'
        : `Sign-in failed (${res.status}). Try again in a moment.`;
});
