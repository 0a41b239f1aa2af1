import { PROJECTIONS } from '../../../projections/index.ts';
import { type InstallContext, type InstallRouteDef, installRoute } from '../route.ts';
import { oneOf } from '../schemas.ts';

/** Operations of the install (admin key only). */
export const adminRoutes: InstallRouteDef[] = [
  installRoute({
    method: 'POST',
    url: '/admin/projections/rebuild',
    area: 'admin',
    summary: 'Replay EVENTS into fresh read models and swap them in; queries keep answering meanwhile',
    body: { properties: { model: oneOf(PROJECTIONS.map((p) => p.model)) } },
    handler: async (c: InstallContext<{ model?: string }>) => c.projector.rebuild(c.body.model ? [c.body.model] : undefined),
  }),
  installRoute({
    method: 'GET',
    url: '/admin/projections',
    area: 'admin',
    summary: 'Projector position and lag',
    handler: async (c) => ({
      models: PROJECTIONS.map((p) => ({ model: p.model, generation: c.projector.store.activeGen(p.model) })),
      ...(await c.projector.lag()),
    }),
  }),
];
