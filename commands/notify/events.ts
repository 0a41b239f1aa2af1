import type { StoredChannel } from '../../src/notify/secrets.ts';

/** A tenant's notification channels: one aggregate per tenant, type `notify`, id `channels`. */
export const NOTIFY = 'notify';
export const CHANNELS_ID = 'channels';
/** Most channels one tenant may have. */
export const MAX_CHANNELS = 20;

export const NotifyEvents = {
  /** A channel created or replaced; its secrets are sealed (`sealChannel`), never in clear. */
  channelSaved: 'notify.channel-saved',
  channelRemoved: 'notify.channel-removed',
} as const;

export interface ChannelSaved {
  channel: StoredChannel;
}
export interface ChannelRemoved {
  channelId: string;
}
