/**
 * Notifications, the delivery side: channel settings and their validation, sealed secrets,
 * routing (severity, thresholds, quiet hours), rendering, webhook signing, the transports and the
 * retry policy. Everything here is a pure function or a single attempt; the outbox that stores
 * deliveries, schedules attempts and records them as events lives with the event log.
 */
export {
  CHANNEL_INPUT_SCHEMA,
  CHANNEL_KINDS,
  CHAT_SETTINGS_SCHEMA,
  DEFAULT_THRESHOLDS,
  EMAIL_SETTINGS_SCHEMA,
  ROUTING_SCHEMA,
  SEVERITIES,
  WEBHOOK_SETTINGS_SCHEMA,
  WEEKDAYS,
  isLoopbackHost,
  mintWebhookSecret,
  parseChannelInput,
  type ChannelConfig,
  type ChannelKind,
  type ChannelPolicy,
  type ChatSettings,
  type EmailSettings,
  type ParsedChannel,
  type QuietHours,
  type QuietWindow,
  type Routing,
  type Severity,
  type WebhookSettings,
  type Weekday,
} from './settings.ts';
export { SecretBox, channelAad, openChannel, redactChannel, sealChannel, type BoxKey, type ChannelView, type StoredChannel } from './secrets.ts';
export { crossesThreshold, routeAlert, severityRank, type GroupProgress, type RouteDecision } from './routing.ts';
export { quietUntil } from './quiet-hours.ts';
export {
  WEBHOOK_BODY_VERSION,
  alertLink,
  escapeHtml,
  escapeSlack,
  renderChat,
  renderEmail,
  renderWebhookBody,
  type AlertGroup,
  type RenderContext,
  type RenderedEmail,
} from './render.ts';
export { DEFAULT_TOLERANCE_SECONDS, DELIVERY_HEADER, SIGNATURE_HEADER, signWebhook, verifyWebhook, type WebhookVerification } from './signing.ts';
export { sendChat, sendWebhook, type WebhookAttempt } from './webhook.ts';
export { sendEmail, type EmailAttempt } from './email.ts';
export { classifyStatus, parseRetryAfter, type HttpDeliveryOptions } from './http-post.ts';
export { refusedAddress, type NetworkPolicy } from './network.ts';
export type { DeliveryFailure, DeliveryResult, FailureReason } from './outcome.ts';
export { DEFAULT_RETRY_POLICY, backoffMs, jitterOf, nextAttempt, type AttemptState, type DeadLetterReason, type NextStep, type RetryPolicy } from './retry.ts';
export { attemptDelivery, type Delivery, type TransportOptions } from './deliver.ts';
