import { type ChannelRemoved, type ChannelSaved, NotifyEvents as E } from '../../commands/notify/events.ts';
import type { StoredChannel } from '../../src/notify/secrets.ts';
import type { Doc } from '../../src/store/model.ts';
import { by, defineProjection } from '../define.ts';

/** A channel as stored: settings in clear, secrets sealed. The API shows it through `redactChannel` only. */
export type ChannelDoc = Doc & StoredChannel & { createdAt: string; updatedAt: string; updatedBy: string };

/** Notification channels, one document per channel (the events are on one aggregate per tenant). */
export const channelsProjection = defineProjection({
  model: 'channels',
  main: 'channels',
  collections: { channels: { indexes: ['kind'] } },
  on: {
    [E.channelSaved]: {
      reads: (e) => [{ collection: 'channels', id: (e.data as ChannelSaved).channel.id }],
      apply: (e, docs, seq) => {
        const c = (e.data as ChannelSaved).channel;
        const before = docs.get<ChannelDoc>('channels', c.id);
        const doc = { ...c, seq: before?.seq ?? seq, createdAt: before?.createdAt ?? e.at, updatedAt: e.at, updatedBy: by(e) } as ChannelDoc;
        return [{ collection: 'channels', id: c.id, doc }];
      },
    },
    [E.channelRemoved]: {
      reads: () => [],
      apply: (e) => [{ collection: 'channels', id: (e.data as ChannelRemoved).channelId, doc: null }],
    },
  },
});
