import { PROJECTIONS } from '../../../projections/index.ts';
import type { RouteDef } from '../route.ts';
import { oneOf } from '../schemas.ts';

/** Operations of the install (admin key only). */
export const adminRoutes: RouteDef[] = [
  {
    method: 'POST',
    url: '/admin/projections/rebuild',
    access: 'admin',
    area: 'admin',
    summary: 'Replay EVENTS into fresh read models and swap them in; queries keep answering meanwhile',
    body: { properties: { model: oneOf(PROJECTIONS.map((p) => p.model)) } },
    handler: async (c) => {
      const model = (c.body as { model?: string }).model;
      return c.rm.projector.rebuild(model ? [model] : undefined);
    },
  },
  {
    method: 'GET',
    url: '/admin/projections',
    access: 'admin',
    area: 'admin',
    summary: 'Projector position and lag',
    handler: async (c) => ({
      models: PROJECTIONS.map((p) => ({ model: p.model, generation: c.rm.store.activeGen(p.model) })),
      ...(await c.rm.projector.lag()),
    }),
  },
];
