import { type UserState, userDecider } from '../../commands/users/decider.ts';
import type { UserSignedIn } from '../../commands/users/events.ts';
import { emailKey } from '../../projections/users/projection.ts';
import { INSTALL_TENANT } from './install.ts';
import { execute } from '../domain/execute.ts';
import { StkError } from '../errors.ts';
import type { Grants, People } from './people.ts';
import { verifyPassword } from './passwords.ts';
import { recoveryIndex, type RecoverySet, totpStep } from './totp.ts';

/** A sign-in that succeeded: who, in which epoch, and whether MFA still has to be set up. */
export interface SignedIn {
  userId: string;
  name: string;
  state: UserState;
  grants: Grants;
  mfaPending: boolean;
  method: UserSignedIn['method'];
}

const wrong = () => new StkError('STK_ERR_AUTH_REQUIRED', 'wrong e-mail or password');

/** Whether the install requires MFA of a user holding `grants`. */
export function mfaRequired(people: People, grants: Grants): boolean {
  const s = people.settings();
  if (s.mfaForAll) return true;
  return Object.values(grants).some((roles) => roles.some((r) => s.mfaForRoles.includes(r)));
}

/**
 * Password sign-in with TOTP or a recovery code when the user has MFA. Failures count against the
 * account (across processes, see `SignInGuard`) whatever went wrong — unknown e-mail, wrong
 * password, wrong or replayed code — and an unknown e-mail costs the same Argon2 work as a known one.
 */
export async function passwordSignIn(people: People, o: { email: string; password: string; code?: string; ip: string }, now = Date.now()): Promise<SignedIn> {
  await people.guard.check(o.email);
  const fail = async (err: StkError): Promise<never> => {
    const waitMs = await people.guard.failed(o.email);
    if (waitMs > 0) err.data.retryAfterSeconds = Math.ceil(waitMs / 1000);
    throw err;
  };
  const userId = await people.store.admin.lookup<string>('users', 'user-email', emailKey(o.email));
  const u = userId ? await people.user(userId) : null;
  const stored = u?.state.password ? people.vault.open<string>(u.state.password, userId!, 'password') : null;
  const passwordOk = await verifyPassword(stored, o.password);
  if (!passwordOk || !u || !userId || u.state.status !== 'active') return fail(wrong());
  let method: UserSignedIn['method'] = 'password';
  if (u.state.totp) {
    const code = o.code?.trim() ?? '';
    if (!code) throw new StkError('STK_ERR_MFA_REQUIRED', 'enter the code of your authenticator app or a recovery code', { field: 'code' });
    if (/^\d{6}$/.test(code)) {
      const secret = people.vault.open<string>(u.state.totp, userId, 'totp');
      const step = totpStep(secret, code, now);
      if (step === null) return fail(new StkError('STK_ERR_MFA_INVALID', 'the code is not valid', { field: 'code' }));
      if (!(await people.guard.useTotpStep(userId, step)))
        return fail(new StkError('STK_ERR_MFA_REPLAYED', 'this code was used already; wait for the next one', { field: 'code' }));
      method = 'password+totp';
    } else {
      const set = u.state.recovery ? people.vault.open<RecoverySet>(u.state.recovery.sealed, userId, 'recovery') : null;
      const index = set ? recoveryIndex(set, code) : -1;
      if (index < 0 || u.state.recovery?.used.includes(index)) return fail(new StkError('STK_ERR_MFA_INVALID', 'the code is not valid', { field: 'code' }));
      // Single use, decided on the user's log: a racing second use of the same code is refused there.
      await execute(
        people.rt.log,
        { tenant: INSTALL_TENANT, id: userId },
        userDecider,
        { kind: 'use-recovery-code', index },
        {
          actor: { kind: 'operator', id: `user:${userId}`, via: 'recovery-code' },
        },
      ).catch((err) => (err instanceof StkError && err.code === 'STK_ERR_MFA_INVALID' ? fail(err) : Promise.reject(err)));
      method = 'password+recovery-code';
    }
  }
  await people.guard.succeeded(o.email);
  const grants = await people.grants(userId);
  const fresh = await people.user(userId);
  return { userId, name: fresh.state.name, state: fresh.state, grants, mfaPending: !fresh.state.totp && mfaRequired(people, grants), method };
}

/** Records a sign-in on the user's log (who, how, which session); returns the user's state after it. */
export async function recordSignIn(people: People, userId: string, signIn: UserSignedIn, via: string): Promise<void> {
  await execute(
    people.rt.log,
    { tenant: INSTALL_TENANT, id: userId },
    userDecider,
    { kind: 'sign-in', signIn },
    { actor: { kind: 'operator', id: `user:${userId}`, via } },
  );
}
