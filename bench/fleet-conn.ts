import { type ConnectionOptions, connect, type SecureContext, type TLSSocket } from 'node:tls';

/** An answer read off a connection. */
export interface Answer {
  status: number;
  body: string;
}

/**
 * One keep-alive HTTP/1.1 connection over TLS, for the load generator: a request at a time, written
 * and parsed by hand (the answers of the ingress always carry a content-length). Tens of thousands
 * of these live in one process, so each is a socket, a small buffer and a callback — not an http
 * client with its pools and parsers.
 */
export class FleetConn {
  #socket: TLSSocket | null = null;
  #connecting: Promise<TLSSocket> | null = null;
  #buf: Buffer = Buffer.alloc(0);
  #waiting: { resolve: (a: Answer) => void; reject: (e: Error) => void } | null = null;
  /** Set on each new connection: whether its TLS session was resumed. */
  resumed = false;
  /** Whether `close()` was called since the last request was sent (a failure then is the agent's own doing). */
  closedByUs = false;

  constructor(
    readonly o: {
      host: string;
      port: number;
      localAddress: string;
      context: SecureContext;
      /** Session store shared by every connection of one identity: a reconnect resumes. */
      sessions: { get(): Buffer | undefined; set(s: Buffer): void };
      onConnect: (resumed: boolean) => void;
    },
  ) {}

  get open(): boolean {
    return this.#socket !== null;
  }

  /** Sends one request and resolves with its answer; a closed connection is opened again first. */
  async request(method: string, path: string, body?: string): Promise<Answer> {
    this.closedByUs = false;
    const socket = this.#socket ?? (await (this.#connecting ??= this.#connect()));
    const payload = body === undefined ? '' : body;
    const head =
      `${method} ${path} HTTP/1.1\r\nhost: ${this.o.host}\r\n` +
      (body === undefined ? '' : `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(payload)}\r\n`) +
      '\r\n';
    return new Promise<Answer>((resolve, reject) => {
      this.#waiting = { resolve, reject };
      socket.write(head + payload);
    });
  }

  /** Closes the connection (the next request opens a new one, resuming the session). */
  close(): void {
    this.closedByUs = true;
    this.#socket?.destroy();
    this.#socket = null;
  }

  #connect(): Promise<TLSSocket> {
    return new Promise<TLSSocket>((resolve, reject) => {
      const session = this.o.sessions.get();
      // localAddress is passed on to net.connect (each generator binds its own loopback address: ports per address run out).
      const options = {
        host: this.o.host,
        port: this.o.port,
        localAddress: this.o.localAddress,
        secureContext: this.o.context,
        ...(/^[\d.]+$/.test(this.o.host) ? {} : { servername: this.o.host }),
        ...(session ? { session } : {}),
      } as unknown as ConnectionOptions;
      const socket = connect(options);
      socket.setNoDelay(true);
      socket.on('session', (s: Buffer) => this.o.sessions.set(s));
      socket.once('secureConnect', () => {
        this.resumed = socket.isSessionReused();
        this.o.onConnect(this.resumed);
        this.#socket = socket;
        this.#connecting = null;
        resolve(socket);
      });
      socket.on('data', (d: Buffer) => this.#onData(d));
      const fail = (err: Error): void => {
        if (this.#socket === socket) this.#socket = null;
        if (this.#connecting) {
          this.#connecting = null;
          reject(err);
        }
        const w = this.#waiting;
        this.#waiting = null;
        this.#buf = Buffer.alloc(0);
        w?.reject(err);
      };
      socket.on('error', fail);
      socket.on('close', () => fail(new Error('connection closed')));
    });
  }

  #onData(d: Buffer): void {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, d]) : d;
    const end = this.#buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.#buf.subarray(0, end).toString('latin1');
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    if (this.#buf.length < end + 4 + length) return;
    const status = Number(head.slice(9, 12));
    const body = this.#buf.subarray(end + 4, end + 4 + length).toString('utf8');
    this.#buf = this.#buf.subarray(end + 4 + length);
    const w = this.#waiting;
    this.#waiting = null;
    w?.resolve({ status, body });
  }
}
