import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from '../logger.ts';
import type { RefusalCode } from './decide.ts';
import type { Witness } from './witness.ts';

/** Largest add-checkpoint body read: 63 proof lines and a checkpoint with many signatures fit many times over. */
export const WITNESS_MAX_BODY_BYTES = 128 * 1024;

/** HTTP status of each add-checkpoint refusal, as tlog-witness prescribes. */
export const WITNESS_STATUS: Record<RefusalCode, number> = {
  STK_ERR_WITNESS_MALFORMED: 400,
  STK_ERR_WITNESS_SIGNATURE: 403,
  STK_ERR_WITNESS_UNKNOWN_LOG: 404,
  STK_ERR_WITNESS_CONFLICT: 409,
  STK_ERR_WITNESS_INCONSISTENT: 422,
};

/** Media type of a 409 body: the size last cosigned, in decimal, and a newline. */
export const TLOG_SIZE_MEDIA_TYPE = 'text/x.tlog.size';

/** What the witness HTTP app needs. */
export interface WitnessAppOptions {
  witness: Witness;
  logger: Logger;
  /** @defaultValue WITNESS_MAX_BODY_BYTES */
  maxBodyBytes?: number;
  /** Submission and monitoring prefix, e.g. `/witness`. @defaultValue '' */
  prefix?: string;
}

/**
 * The tlog-witness HTTP interface: `POST <prefix>/add-checkpoint` and the monitoring
 * `GET <prefix>/<origin hash>/checkpoint`. Bodies are the protocol's text, errors plain text
 * (`<code>: <message>`), except the 409 whose body is exactly the size the protocol asks for.
 */
export async function buildWitnessApp(o: WitnessAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: o.logger.child({ component: 'witness' }) as FastifyBaseLogger,
    bodyLimit: o.maxBodyBytes ?? WITNESS_MAX_BODY_BYTES,
    requestIdHeader: false,
  });
  // The body is the protocol's own text whatever Content-Type a client sends: read it as bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) req.log.error({ err }, 'witness request failed');
    const text =
      status === 413
        ? 'STK_ERR_BODY_TOO_LARGE: request body too large'
        : status === 500
          ? 'STK_ERR_INTERNAL: internal error'
          : `STK_ERR_VALIDATION: ${err.message}`;
    return reply.status(status).type('text/plain; charset=utf-8').send(`${text}\n`);
  });
  app.setNotFoundHandler((_req, reply) => reply.status(404).type('text/plain; charset=utf-8').send('STK_ERR_NOT_FOUND: not found\n'));

  await app.register(
    async (scope) => {
      scope.post('/add-checkpoint', async (req, reply) => {
        const body = req.body instanceof Uint8Array ? req.body : new Uint8Array();
        const out = await o.witness.addCheckpoint(body);
        if (out.kind === 'cosigned') return reply.status(200).type('text/plain; charset=utf-8').send(out.body);
        if (out.code === 'STK_ERR_WITNESS_CONFLICT')
          return reply
            .status(409)
            .type(TLOG_SIZE_MEDIA_TYPE)
            .send(`${out.currentSize ?? 0}\n`);
        return reply.status(WITNESS_STATUS[out.code]).type('text/plain; charset=utf-8').send(`${out.code}: ${out.message}\n`);
      });
      scope.get<{ Params: { hash: string } }>('/:hash/checkpoint', async (req, reply) => {
        const note = /^[0-9a-f]{64}$/.test(req.params.hash) ? o.witness.latestCheckpoint(req.params.hash) : null;
        if (note === null) return reply.status(404).type('text/plain; charset=utf-8').send('STK_ERR_NOT_FOUND: no checkpoint cosigned for this origin\n');
        return reply.status(200).type('text/plain; charset=utf-8').send(note);
      });
    },
    { prefix: o.prefix ?? '' },
  );
  return app;
}
