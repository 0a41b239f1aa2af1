import type { FastifyInstance } from 'fastify';
import { StkError } from '../errors.ts';
import type { DashboardContext } from './context.ts';
import { assertCsrf, noStore, sessionCookie, sessionSetCookie } from './security.ts';

/**
 * Path segments the operator API uses: ids, tenant ids, product names, telemetry item names
 * (`<batch>:<index>`). Nothing else is forwarded.
 */
const API_PATH = /^[A-Za-z0-9_-]{1,64}(\/[A-Za-z0-9_:-]{1,70}){0,7}$/;

/**
 * `/ui/api/<path>` → `/api/v1/<path>` with the session's credential. The browser never holds the
 * credential (the cookie is HttpOnly and names only the session); the API decides everything else.
 * Bodies pass through as text, unparsed, so the API's own schemas judge them.
 */
export async function registerProxy(ui: FastifyInstance, ctx: DashboardContext): Promise<void> {
  await ui.register(async (scope) => {
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    scope.route({
      method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      url: '/api/*',
      handler: async (req, reply) => {
        const session = await ctx.requireSession(req);
        assertCsrf(req, session);
        const path = (req.params as { '*': string })['*'];
        if (!API_PATH.test(path)) throw new StkError('STK_ERR_NOT_FOUND', 'not found');
        const q = req.url.indexOf('?');
        const body = req.method === 'GET' || req.method === 'DELETE' ? undefined : typeof req.body === 'string' ? req.body : '{}';
        // Exports are streamed through, never held whole in memory.
        const stream = req.method === 'GET' && path.endsWith('/export');
        const res = await ctx.callApi(session, req.method, `/${path}${q >= 0 ? req.url.slice(q) : ''}`, body, { stream });
        noStore(reply);
        // The API no longer takes the session's credential (a revoked token, a changed admin key):
        // the session ends here, on every process, and the page goes back to sign-in.
        // (A wrong or used MFA code also answers 401, with its own code: the session stays.)
        if (res.statusCode === 401 && !/"code":"STK_ERR_(MFA_INVALID|MFA_REPLAYED)"/.test(stream ? '' : res.payload)) {
          await ctx.sessions.destroy(sessionCookie(req));
          reply.header('set-cookie', sessionSetCookie(req, null));
        }
        const retry = res.headers['retry-after'];
        if (retry !== undefined) reply.header('retry-after', String(retry));
        reply.status(res.statusCode);
        if (res.statusCode === 204) return reply.send();
        const disposition = res.headers['content-disposition'];
        if (disposition !== undefined) reply.header('content-disposition', String(disposition));
        if (stream) return reply.type(String(res.headers['content-type'] ?? 'application/octet-stream')).send(res.stream());
        return reply.type(String(res.headers['content-type'] ?? 'application/json; charset=utf-8')).send(res.rawPayload);
      },
    });
  });
}
