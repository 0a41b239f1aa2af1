import { sendEmail } from './email.ts';
import type { HttpDeliveryOptions } from './http-post.ts';
import type { NetworkPolicy } from './network.ts';
import type { DeliveryResult } from './outcome.ts';
import { type AlertGroup, renderChat, renderEmail, renderWebhookBody } from './render.ts';
import type { ChannelConfig } from './settings.ts';
import { sendChat, sendWebhook } from './webhook.ts';

/**
 * One message to one channel: the group as it was when the message was made ready. Rendering is
 * pure, so every attempt sends the same bytes under the same delivery id.
 */
export interface Delivery {
  /** Token-safe id (`src/ids.ts`), the same on every attempt. */
  id: string;
  group: AlertGroup;
  /** The count the channel had been told before this message (0: the group is new to it). */
  notifiedCount: number;
}

/** How attempts reach the outside, set once per install. */
export interface TransportOptions {
  dashboardBaseUrl: string;
  network?: NetworkPolicy;
  /** Extra trust for https receivers and SMTP servers (a private CA, a test's). */
  ca?: string | string[];
  timeoutMs?: number;
  maxResponseBytes?: number;
}

/** Renders a delivery for its channel and makes one attempt at `now`; the outcome is a value. */
export function attemptDelivery(channel: ChannelConfig, d: Delivery, now: Date, o: TransportOptions): Promise<DeliveryResult> {
  const rc = { deliveryId: d.id, notifiedCount: d.notifiedCount, dashboardBaseUrl: o.dashboardBaseUrl };
  const http: HttpDeliveryOptions = {
    now,
    ...(o.network !== undefined ? { network: o.network } : {}),
    ...(o.ca !== undefined ? { ca: o.ca } : {}),
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    ...(o.maxResponseBytes !== undefined ? { maxResponseBytes: o.maxResponseBytes } : {}),
  };
  switch (channel.kind) {
    case 'webhook':
      return sendWebhook(channel.settings, renderWebhookBody(d.group, rc), { ...http, deliveryId: d.id, now });
    case 'chat':
      return sendChat(channel.settings, renderChat(d.group, rc), http);
    case 'email':
      return sendEmail(channel.settings, renderEmail(d.group, rc), {
        deliveryId: d.id,
        ...(o.network !== undefined ? { network: o.network } : {}),
        ...(o.ca !== undefined ? { ca: o.ca } : {}),
        ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
      });
  }
}
