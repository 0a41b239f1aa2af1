export * from './envelope.ts';
export * from './log.ts';
export * from './stream.ts';
export * from './upcast.ts';
export { Streams, caughtUp, isStreamNotFound, purgeMovesConsumers, unavailable } from './streams.ts';
export type {
  Bucket,
  ObjectBucket,
  StoredObject,
  ConsumerSpec,
  ConsumerState,
  Consumption,
  Delivery,
  Follow,
  Headers,
  ScanOptions,
  StoredMessage,
  StreamSpec,
  StreamState,
} from './streams.ts';
export type { Ack, PublishOptions } from './publisher.ts';
export { isWrongLastSequence } from './publisher.ts';
export { CALL_KINDS, CallCounts, type CallKind } from './calls.ts';
export { headerOf } from './header.ts';
