import type { FastifyInstance } from 'fastify';
import { ConsistencyTokens } from '../api/consistency.ts';
import { peopleOf } from '../people/people.ts';
import type { Runtime } from '../runtime.ts';
import { loadAssets } from './assets.ts';
import { bundleUi } from './bundle.ts';
import { DashboardContext } from './context.ts';
import { registerLive } from './live.ts';
import { registerPages } from './pages.ts';
import { registerProxy } from './proxy.ts';
import { SECURITY_HEADERS, UI_PREFIX } from './security.ts';

export { SESSION_BUCKET, SESSION_TTL_MS, SessionStore } from './sessions.ts';
export { CONTENT_SECURITY_POLICY, CSRF_HEADER, SESSION_COOKIE, UI_PREFIX } from './security.ts';

/**
 * The operator dashboard, served by the API process under `/ui` on the API's own origin. Sessions
 * live in NATS KV (any API process serves any session); data comes from the operator API itself.
 */
export async function dashboardPlugin(app: FastifyInstance, rt: Runtime): Promise<void> {
  // The people services' store: users' sessions get the install's idle and absolute timeouts.
  const sessions = (await peopleOf(rt)).sessions;
  // Static files (HTML shells, the stylesheet) and the components compiled for the browser.
  const assets = new Map([...(await loadAssets()), ...(await bundleUi())]);
  const ctx = new DashboardContext(app, rt, sessions, await ConsistencyTokens.open(rt.streams, { replicas: rt.config.replicas }));
  await app.register(
    async (ui) => {
      ui.addHook('onRoute', (route) => {
        route.schema = { ...(route.schema ?? {}), hide: true } as NonNullable<typeof route.schema>;
      });
      ui.addHook('onSend', async (_req, reply, payload) => {
        reply.headers(SECURITY_HEADERS);
        return payload;
      });
      registerPages(ui, ctx, assets);
      registerLive(ui, ctx);
      await registerProxy(ui, ctx);
    },
    { prefix: UI_PREFIX },
  );
}
