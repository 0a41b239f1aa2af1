import type { FastifyInstance } from 'fastify';
import { deliveryDecider } from '../../../commands/deliveries/decider.ts';
import { channelsDecider } from '../../../commands/notify/decider.ts';
import { CHANNELS_ID } from '../../../commands/notify/events.ts';
import type { ChannelDoc } from '../../../projections/channels/projection.ts';
import type { DeliveryDoc } from '../../../projections/deliveries/projection.ts';
import { StkError } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { openInstallBox } from '../../notify/install-box.ts';
import { type ChannelPolicy, CHANNEL_KINDS, parseChannelInput, ROUTING_SCHEMA } from '../../notify/settings.ts';
import { redactChannel, type SecretBox, sealChannel, type StoredChannel } from '../../notify/secrets.ts';
import type { Runtime } from '../../runtime.ts';
import { ACTOR_NAMES_DOC, viewOf, withActorNames } from '../actors.ts';
import { TENANT_PREFIX, type TenantContext, type TenantRouteDef, tenantRoute } from '../route.ts';
import { getRoute, ID, itemCommand, listRoute, mustGet, oneOf, TENANT_PARAM, text } from '../schemas.ts';

/** What the channel routes need besides the tenant's handles: the install's secret box and policy. */
export interface NotifyServices {
  box: SecretBox;
  policy: ChannelPolicy;
}

declare module 'fastify' {
  interface FastifyInstance {
    notify: NotifyServices;
  }
}

/** Decorates the API scope with the channel secret box (key in `stk-install`) and the install's channel policy. */
export async function registerNotifyServices(app: FastifyInstance, rt: Runtime): Promise<void> {
  app.decorate('notify', {
    box: await openInstallBox(rt.streams, { replicas: rt.config.replicas }),
    policy: { allowLoopbackHttp: rt.config.detector?.allowLoopback ?? false },
  } satisfies NotifyServices);
}

const CHANNEL_PARAM = { ...TENANT_PARAM, channelId: ID };
/**
 * The kinds' own schemas (`CHANNEL_INPUT_SCHEMA`) are a `oneOf`, which a route body cannot be: the
 * route checks the common shape and `parseChannelInput` the kind's settings, with the same errors.
 */
const CHANNEL_BODY = {
  properties: {
    kind: oneOf(CHANNEL_KINDS),
    name: text(100),
    enabled: { type: 'boolean' },
    settings: { type: 'object', maxProperties: 16 },
    routing: ROUTING_SCHEMA,
  },
  required: ['kind', 'name', 'settings'],
  maxBytes: 32 * 1024,
};

/** A channel as the API shows it: never a secret (`redactChannel`). */
const channelView = (d: ChannelDoc) => ({ ...redactChannel(d as StoredChannel), createdAt: d.createdAt, updatedAt: d.updatedAt, updatedBy: d.updatedBy });
const channelNames = withActorNames({ fields: ['updatedBy'] });
const deliveryNames = withActorNames({ fields: ['requeuedBy'] });
/** A channel as shown, with who changed it last named. */
const namedChannel = async (d: ChannelDoc, c: TenantContext) => (await channelNames([channelView(d) as unknown as ChannelDoc], c))[0];

async function saveChannel(c: TenantContext<Record<string, unknown>>, id: string, create: boolean) {
  const services = c.req.server.notify;
  const { channel, generatedSecret } = parseChannelInput(c.body, services.policy);
  const stored = sealChannel(services.box, c.tenant, id, channel);
  const r = await c.execute(channelsDecider, CHANNELS_ID, { kind: 'save', channel: stored, create });
  const consistencyToken = await c.settle(r.position);
  const doc = await c.store.get<ChannelDoc>('channels', id);
  return {
    ...(doc ? await namedChannel(doc, c) : redactChannel(stored)),
    // The generated webhook secret, shown this once: it is stored sealed and never returned again.
    ...(generatedSecret ? { generatedSecret } : {}),
    consistencyToken,
  };
}

/** Notifications: channels (secrets sealed, never returned), deliveries and dead letters. */
export const notificationRoutes: TenantRouteDef[] = [
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/notifications/channels`,
    permission: 'notifications.read',
    area: 'notifications',
    summary: "The tenant's notification channels, secrets left out",
    returns: `Each item: ${ACTOR_NAMES_DOC}`,
    params: TENANT_PARAM,
    query: { kind: oneOf(CHANNEL_KINDS) },
    handler: async (c: TenantContext<unknown, { kind?: string }>) => {
      const token = c.readToken();
      const page = await c.store.list<ChannelDoc>('channels', { filter: c.query.kind ? { kind: c.query.kind } : {}, limit: 200 });
      return { items: await channelNames(page.items.map(channelView) as unknown as ChannelDoc[], c), nextCursor: null, consistencyToken: token };
    },
  }),
  tenantRoute({
    method: 'POST',
    url: `${TENANT_PREFIX}/notifications/channels`,
    permission: 'notifications.manage',
    area: 'notifications',
    status: 201,
    summary: 'Add a channel (webhook, email, chat) with its routing; a webhook without a secret gets one, shown once',
    params: TENANT_PARAM,
    body: CHANNEL_BODY,
    handler: (c: TenantContext<Record<string, unknown>>) => saveChannel(c, newId(), true),
  }),
  getRoute('notifications/channels', 'channels', 'channelId', namedChannel, 'notifications.read', ACTOR_NAMES_DOC),
  tenantRoute({
    method: 'PUT',
    url: `${TENANT_PREFIX}/notifications/channels/:channelId`,
    permission: 'notifications.manage',
    area: 'notifications',
    summary: 'Replace a channel whole, secrets included (a webhook given no secret gets a new one)',
    params: CHANNEL_PARAM,
    body: CHANNEL_BODY,
    handler: async (c: TenantContext<Record<string, unknown>, unknown, { channelId: string }>) => {
      await mustGet(c, 'channels', c.params.channelId);
      return saveChannel(c, c.params.channelId, false);
    },
  }),
  tenantRoute({
    method: 'DELETE',
    url: `${TENANT_PREFIX}/notifications/channels/:channelId`,
    permission: 'notifications.manage',
    area: 'notifications',
    summary: 'Remove a channel; messages queued for it become dead letters',
    params: CHANNEL_PARAM,
    handler: async (c: TenantContext<unknown, unknown, { channelId: string }>) => {
      await mustGet(c, 'channels', c.params.channelId);
      const r = await c.execute(channelsDecider, CHANNELS_ID, { kind: 'remove', channelId: c.params.channelId });
      return { id: c.params.channelId, removed: true, consistencyToken: await c.settle(r.position) };
    },
  }),
  listRoute('notifications/deliveries', 'deliveries', { status: oneOf(['pending', 'delivered', 'dead-letter']), channelId: ID, alertId: ID }, (d) => d, {
    permission: 'notifications.read',
    decorate: deliveryNames,
    returns: ACTOR_NAMES_DOC,
  }),
  getRoute('notifications/deliveries', 'deliveries', 'deliveryId', viewOf(deliveryNames), 'notifications.read', ACTOR_NAMES_DOC),
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/notifications/dead-letters`,
    permission: 'notifications.read',
    area: 'notifications',
    summary: 'Messages given up (permanent failure, attempts or age exhausted, channel removed), newest first',
    params: TENANT_PARAM,
    query: {
      limit: { type: 'string', pattern: '^[0-9]{1,3}$' },
      cursor: { type: 'string', maxLength: 200 },
      channelId: ID,
    },
    handler: async (c: TenantContext<unknown, { limit?: string; cursor?: string; channelId?: string }>) => {
      const limit = c.query.limit === undefined ? 50 : Number(c.query.limit);
      if (limit < 1 || limit > 200) throw new StkError('STK_ERR_VALIDATION', 'limit must be 1 to 200', { field: 'limit' });
      const token = c.readToken();
      const page = await c.store.list<DeliveryDoc>('deliveries', {
        filter: { status: 'dead-letter', ...(c.query.channelId ? { channelId: c.query.channelId } : {}) },
        limit,
        ...(c.query.cursor ? { cursor: c.query.cursor } : {}),
      });
      return { items: page.items, nextCursor: page.nextCursor, consistencyToken: token };
    },
  }),
  itemCommand({
    method: 'POST',
    area: 'notifications/deliveries',
    collection: 'deliveries',
    param: 'deliveryId',
    action: 'retry',
    summary: 'Send a dead letter back to the outbox for a fresh round of attempts',
    permission: 'notifications.manage',
    decider: deliveryDecider,
    command: () => ({ kind: 'requeue' as const }),
    view: viewOf(deliveryNames),
    returns: ACTOR_NAMES_DOC,
  }),
];
