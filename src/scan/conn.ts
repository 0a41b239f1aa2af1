import { type Socket, connect } from 'node:net';
import type { TokenBucket } from './limits.ts';

/** What every connection of a scan shares: the rate limit, the counters and the timeouts. */
export interface ConnContext {
  bucket: TokenBucket;
  connectTimeoutMs: number;
  closeWaitMs: number;
  signal?: AbortSignal;
  /** Connections started, for the run's statistics. */
  stats: { connections: number };
}

export type ConnectOutcome = { state: 'open'; conn: Conn } | { state: 'closed' | 'filtered'; error: string };

export interface ReadOptions {
  timeoutMs: number;
  maxBytes: number;
  idleMs?: number;
  done?: (data: Buffer) => boolean;
}

export interface ReadResult {
  data: Buffer;
  /** The peer closed its side (or the connection failed). */
  ended: boolean;
  timedOut: boolean;
}

/**
 * One TCP connection of a scan. It takes a token of the rate limit before it starts, keeps a
 * listener on 'error' from the first moment (a reset must never crash the process), and closes
 * politely: FIN, then wait (bounded) for the peer's FIN. Waiting for the peer means that when the
 * next connection of the same worker starts, the peer has already seen this one end, so the
 * concurrency limit holds as the scanned host counts connections, not only as we do.
 */
export class Conn {
  readonly socket: Socket;
  readonly #ctx: ConnContext;
  #error: string | undefined;

  private constructor(socket: Socket, ctx: ConnContext) {
    this.socket = socket;
    this.#ctx = ctx;
  }

  /** Connects to `address:port` (an IP literal: no name lookup happens here). ECONNREFUSED is closed; no answer or any other failure is filtered. */
  static async open(ctx: ConnContext, address: string, port: number): Promise<ConnectOutcome> {
    await ctx.bucket.take(ctx.signal);
    ctx.stats.connections++;
    const socket = connect({ host: address, port, noDelay: true });
    socket.pause();
    const conn = new Conn(socket, ctx);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      conn.#error ??= err.code ?? err.message;
    });
    const outcome = await new Promise<'open' | 'error' | 'timeout'>((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), ctx.connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve('open');
      });
      socket.once('close', () => {
        clearTimeout(timer);
        resolve('error');
      });
    });
    if (outcome === 'open') return { state: 'open', conn };
    socket.destroy();
    if (outcome === 'timeout') return { state: 'filtered', error: 'ETIMEDOUT' };
    const error = conn.#error ?? 'closed';
    return { state: error === 'ECONNREFUSED' ? 'closed' : 'filtered', error };
  }

  /** Reads from this connection (see readSocket). */
  read(o: ReadOptions): Promise<ReadResult> {
    return readSocket(this.socket, o);
  }

  /** Writes `bytes`; a failed write shows up as the next read ending. */
  write(bytes: Buffer | string): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** FIN, then wait up to closeWaitMs for the peer's FIN (draining what it still sends), then make sure the socket is gone. */
  close(): Promise<void> {
    return closeSocket(this.socket, this.#ctx.closeWaitMs);
  }
}

/** Ends a socket politely and resolves once it is closed; destroys it if the peer does not close within `closeWaitMs`. */
export function closeSocket(socket: Socket, closeWaitMs: number): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => socket.destroy(), closeWaitMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.on('error', () => {});
    socket.resume();
    socket.end();
  });
}

/**
 * Reads until `done(buffer)` says so, `maxBytes` arrived, the peer closed, `timeoutMs` passed
 * since the call, or (with `idleMs`) that long passed without data after the first byte. The
 * socket is paused again afterwards, so nothing is lost before the next read.
 */
export function readSocket(s: Socket, o: ReadOptions): Promise<ReadResult> {
  const chunks: Buffer[] = [];
  let size = 0;
  return new Promise((resolve) => {
    let idle: NodeJS.Timeout | undefined;
    const finish = (ended: boolean, timedOut: boolean): void => {
      clearTimeout(overall);
      clearTimeout(idle);
      s.off('data', onData);
      s.off('end', onEnd);
      s.off('close', onEnd);
      s.pause();
      const data = Buffer.concat(chunks, size);
      resolve({ data: data.subarray(0, o.maxBytes), ended, timedOut });
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= o.maxBytes || o.done?.(Buffer.concat(chunks, size))) {
        finish(false, false);
        return;
      }
      if (o.idleMs !== undefined) {
        clearTimeout(idle);
        idle = setTimeout(() => finish(false, false), o.idleMs);
      }
    };
    const onEnd = (): void => finish(true, false);
    const overall = setTimeout(() => finish(false, true), o.timeoutMs);
    if (s.readableEnded || s.destroyed) {
      finish(true, false);
      return;
    }
    s.on('data', onData);
    s.once('end', onEnd);
    s.once('close', onEnd);
    s.resume();
  });
}
