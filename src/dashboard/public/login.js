// Sign-in: the credential goes to the server once; what comes back is an HttpOnly session cookie.
const form = document.getElementById('signin');
const error = document.getElementById('error');
form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  error.textContent = '';
  const credential = form.elements.namedItem('credential').value.trim();
  if (!credential) {
    error.textContent = 'Enter the admin key or a tenant token.';
    return;
  }
  const res = await fetch('/ui/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ credential }),
    credentials: 'same-origin',
  });
  if (res.status === 201) {
    const body = await res.json();
    location.assign(body.home);
    return;
  }
  form.elements.namedItem('credential').value = '';
  error.textContent =
    res.status === 401
      ? 'That key or token is not valid.'
      : res.status === 429
        ? 'Too many failed attempts from here; wait a minute and try again.'
        : `Sign-in failed (${res.status}).`;
});
