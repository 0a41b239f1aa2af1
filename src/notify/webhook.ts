import { type HttpDeliveryOptions, postOnce } from './http-post.ts';
import type { DeliveryResult } from './outcome.ts';
import type { ChatSettings, WebhookSettings } from './settings.ts';
import { DELIVERY_HEADER, SIGNATURE_HEADER, signWebhook } from './signing.ts';

/** One webhook attempt. */
export interface WebhookAttempt extends HttpDeliveryOptions {
  deliveryId: string;
  /** The attempt's time: the signature's timestamp. */
  now: Date;
}

/**
 * POSTs a rendered webhook body once, signed at `now` (a retry is signed afresh, so a receiver's
 * replay window starts at each attempt; the body and the delivery id stay the same).
 */
export function sendWebhook(settings: WebhookSettings, rawBody: string, a: WebhookAttempt): Promise<DeliveryResult> {
  return postOnce(settings.url, rawBody, { [SIGNATURE_HEADER]: signWebhook(settings.secret, rawBody, a.now), [DELIVERY_HEADER]: a.deliveryId }, a);
}

/** POSTs a rendered Slack-compatible body once; the URL itself is the credential. */
export function sendChat(settings: ChatSettings, rawBody: string, o: HttpDeliveryOptions = {}): Promise<DeliveryResult> {
  return postOnce(settings.url, rawBody, {}, o);
}
