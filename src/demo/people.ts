// The demo's people, made as an admin makes them: invited (`POST /users`), the invitation accepted
// with a password (`POST /invitations/accept`), install-wide roles set, and — for those who act in
// the story — an API token of their own. A person an earlier demo made (and `reset` disabled) is
// enabled again rather than invited twice.
import { StkError } from '../errors.ts';
import type { PersonPlan } from './book.ts';
import { DEMO_PASSWORD } from './names.ts';
import { type OperatorApi, personApi } from './operator.ts';

interface UserView {
  id: string;
  name: string;
  email: string;
  status: 'invited' | 'active' | 'disabled';
}

/** A person of the install, found by exact e-mail (any case). */
export async function findUser(admin: OperatorApi, email: string): Promise<UserView | null> {
  const page: { items: UserView[] } = await admin.call('GET', `/users?q=${encodeURIComponent(email)}&limit=200`);
  return page.items.find((u) => u.email.toLowerCase() === email.toLowerCase()) ?? null;
}

async function accept(admin: OperatorApi, token: string, email: string): Promise<void> {
  const r = await fetch(`${admin.base}/api/v1/invitations/accept`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, password: DEMO_PASSWORD }),
  });
  if (r.status !== 200) {
    const e = ((await r.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null)?.error;
    throw new StkError('STK_ERR_INTERNAL', `accepting the invitation of ${email} answered ${r.status} ${e?.code ?? ''} ${e?.message ?? ''}`.trim(), {
      status: r.status,
    });
  }
}

/** Makes (or brings back) one person; answers their user id. */
export async function ensurePerson(admin: OperatorApi, p: PersonPlan): Promise<string> {
  let user = await findUser(admin, p.email);
  if (!user) {
    const made: { id: string; invitation: { token: string } } = await admin.call('POST', '/users', { name: p.name, email: p.email, expiresInHours: 72 });
    if (p.accepts) await accept(admin, made.invitation.token, p.email);
    user = { id: made.id, name: p.name, email: p.email, status: p.accepts ? 'active' : 'invited' };
  } else {
    if (user.status === 'disabled') await admin.call('POST', `/users/${user.id}/enable`, {});
    if (user.status === 'invited' && p.accepts) {
      const renewed: { invitation: { token: string } } = await admin.call('POST', `/users/${user.id}/invitation`, { expiresInHours: 72 });
      await accept(admin, renewed.invitation.token, p.email);
    }
  }
  if (p.installRoles.length) await admin.call('PUT', `/users/${user.id}/roles`, { roles: p.installRoles });
  return user.id;
}

/** The people who act in the story, each with their own token, made once per seed run. */
export class Cast {
  readonly #apis = new Map<string, Promise<OperatorApi>>();
  constructor(
    readonly admin: OperatorApi,
    readonly people: readonly PersonPlan[],
    readonly label: string,
  ) {}

  /** The API as the person with this e-mail (signed in with the demo password once). */
  as(email: string): Promise<OperatorApi> {
    let api = this.#apis.get(email);
    if (!api) {
      const p = this.people.find((x) => x.email === email);
      if (!p) throw new StkError('STK_ERR_INTERNAL', `no person ${email} in the book`);
      api = personApi(this.admin.base, p, DEMO_PASSWORD, this.label);
      this.#apis.set(email, api);
    }
    return api;
  }
}
