import type { FastifyInstance, FastifyRequest, LightMyRequestResponse as InjectResponse } from 'fastify';
import type { ConsistencyTokens } from '../api/consistency.ts';
import { internalCallHeader } from '../api/internal.ts';
import { StkError } from '../errors.ts';
import { type People, peopleOf } from '../people/people.ts';
import type { Runtime } from '../runtime.ts';
import type { TenantDoc } from '../../projections/tenants/projection.ts';
import { sessionCookie } from './security.ts';
import type { Session, SessionStore } from './sessions.ts';

/**
 * What every part of the dashboard's server side shares. The dashboard holds no data of its own
 * and applies no tenant rule of its own: it presents the session's credential to the operator API
 * (`callApi`, an in-process request through the API's router), so the tenant wall, the roles and
 * the product gates that answer a browser are exactly those that answer a `curl`.
 */
export class DashboardContext {
  readonly #sessions = new WeakMap<FastifyRequest, Promise<Session | null>>();

  constructor(
    readonly app: FastifyInstance,
    readonly rt: Runtime,
    readonly sessions: SessionStore,
    readonly tokens: ConsistencyTokens,
  ) {}

  /** The process's people services (users, sign-in, sessions). */
  people(): Promise<People> {
    return peopleOf(this.rt);
  }

  /**
   * The request's session, or null; read once per request. A user's session is also checked
   * against the user's log: disabled, or a newer session epoch (signed out everywhere, password
   * changed), and it is no session — on this process as on every other.
   */
  session(req: FastifyRequest): Promise<Session | null> {
    let s = this.#sessions.get(req);
    if (!s) {
      const sid = sessionCookie(req);
      s = this.sessions.get(sid).then(async (found) => {
        if (!found?.user) return found;
        const u = await (await this.people()).user(found.user.userId);
        if (u.state.status === 'active' && u.state.epoch === found.user.epoch) return found;
        await this.sessions.destroy(sid);
        return null;
      });
      this.#sessions.set(req, s);
    }
    return s;
  }

  async requireSession(req: FastifyRequest): Promise<Session> {
    const s = await this.session(req);
    if (!s) throw new StkError('STK_ERR_AUTH_REQUIRED', 'sign in to the dashboard first');
    return s;
  }

  /** Calls `/api/v1<path>` with the session's credential, as the session's own client would. */
  callApi(session: Session, method: string, path: string, body?: string, o: { stream?: boolean } = {}): Promise<InjectResponse> {
    return this.app.inject({
      ...(o.stream ? { payloadAsStream: true } : {}),
      method: method as 'GET',
      url: `/api/v1${path}`,
      headers: {
        authorization: `Bearer ${session.credential}`,
        // Marks the call as this process's own: a user session's credential is honoured on no other.
        ...internalCallHeader(),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { payload: body } : {}),
    });
  }

  /**
   * The tenant as the session may see it, or null when the API answers anything but 200 (another
   * tenant, a missing one, a revoked token: all look the same here as they do on the API).
   */
  async tenantView(session: Session, tenant: string): Promise<TenantDoc | null> {
    const res = await this.callApi(session, 'GET', `/tenants/${encodeURIComponent(tenant)}`);
    if (res.statusCode === 401) throw new StkError('STK_ERR_AUTH_REQUIRED', "the session's credential is no longer valid");
    return res.statusCode === 200 ? (res.json() as TenantDoc) : null;
  }
}
