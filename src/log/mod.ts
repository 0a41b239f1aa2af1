export * from './envelope.ts';
export * from './log.ts';
export * from './stream.ts';
export * from './upcast.ts';
