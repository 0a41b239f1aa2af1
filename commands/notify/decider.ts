import { accept, notFound, refuse, type Decider } from '../../src/domain/decider.ts';
import { StkError } from '../../src/errors.ts';
import type { StoredChannel } from '../../src/notify/secrets.ts';
import { type ChannelRemoved, type ChannelSaved, MAX_CHANNELS, NOTIFY, NotifyEvents as E } from './events.ts';

export interface ChannelsState {
  channels: Record<string, StoredChannel>;
}

export type ChannelsCommand = { kind: 'save'; channel: StoredChannel; create: boolean } | { kind: 'remove'; channelId: string };

/** A tenant's channels: at most MAX_CHANNELS; a replace names an existing channel, a create a new one. */
export const channelsDecider: Decider<ChannelsState, ChannelsCommand> = {
  aggregateType: NOTIFY,
  initialState: () => ({ channels: {} }),
  evolve(s, e) {
    if (e.type === E.channelSaved) {
      const c = (e.data as ChannelSaved).channel;
      return { channels: { ...s.channels, [c.id]: c } };
    }
    if (e.type === E.channelRemoved) {
      const { [(e.data as ChannelRemoved).channelId]: _gone, ...channels } = s.channels;
      return { channels };
    }
    return s;
  },
  decide(c, s) {
    if (c.kind === 'remove') {
      return s.channels[c.channelId] ? accept({ type: E.channelRemoved, data: { channelId: c.channelId } }) : refuse(notFound('channel', c.channelId));
    }
    const exists = Boolean(s.channels[c.channel.id]);
    if (!c.create && !exists) return refuse(notFound('channel', c.channel.id));
    if (c.create && exists) return refuse(new StkError('STK_ERR_INTERNAL', 'channel id already used', { id: c.channel.id }));
    if (c.create && Object.keys(s.channels).length >= MAX_CHANNELS) {
      return refuse(new StkError('STK_ERR_VALIDATION', `a tenant has at most ${MAX_CHANNELS} channels`, { field: 'channels', limit: MAX_CHANNELS }));
    }
    return accept({ type: E.channelSaved, data: { channel: c.channel } });
  },
};
