import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import { StkError } from '../errors.ts';
import { assertId, isValidId } from '../ids.ts';
import { verifyLedger } from '../ledger/verify.ts';
import { tenantFilter } from '../log/envelope.ts';
import { TELEMETRY_STREAM, telemetrySubject } from '../telemetry/stream.ts';
import type { DashboardContext } from './context.ts';
import { assertCsrf, SECURITY_HEADERS, sessionCookie } from './security.ts';

/** How often an idle live stream is kept open, and its session checked (a sign-out elsewhere ends it). */
export const LIVE_HEARTBEAT_MS = 15_000;

/**
 * Live streams one process holds open, and one session may hold (a few tabs). Each is an ordered
 * consumer on EVENTS, so a session opening streams in a loop must not cost the server without end.
 */
export const LIVE_MAX_STREAMS = 500;
export const LIVE_MAX_PER_SESSION = 8;

/** Which events pages follow live, by aggregate type; the rest of the tenant's log is not sent. */
const LIVE_KINDS = new Set(['alert', 'agent', 'incident', 'command', 'finding', 'scan', 'evidence', 'tenant', 'token', 'approval', 'access', 'policy']);

/** Customers one stream may follow (the tabs of one browser share one stream). */
export const LIVE_MAX_TENANTS = 16;

/**
 * The products' kinds: telemetry batches (processes, connections, accounts), detection settings,
 * notification channels and deliveries, collection settings.
 */
for (const kind of ['telemetry', 'detection', 'notify', 'delivery', 'agent-config']) LIVE_KINDS.add(kind);

/**
 * How long a telemetry change waits for the telemetry read models to hold its batch. They are fed
 * by TELEMETRY, not by EVENTS, so a page that re-read at once could miss the batch it was told of.
 */
const TELEMETRY_WAIT_MS = 2_000;

const tenantParams = { type: 'object', properties: { tenant: { type: 'string', maxLength: 63 } }, required: ['tenant'], additionalProperties: false };
const liveQuery = {
  type: 'object',
  properties: {
    tenant: {
      anyOf: [
        { type: 'string', maxLength: 63 },
        { type: 'array', maxItems: LIVE_MAX_TENANTS, items: { type: 'string', maxLength: 63 } },
      ],
    },
  },
  required: ['tenant'],
  additionalProperties: false,
};

/**
 * `GET /ui/live?tenant=<a>&tenant=<b>` (and `/ui/live/<tenant>`): server-sent events of the customers
 * a browser's tabs show, for a session that may see each of them. Each customer is a subscription to
 * its own subjects (`tenantFilter`), so another tenant's events never reach this process's stream,
 * whatever the page asks. A message names the change (`tenant`, `kind`, `type`, `id`, consistency
 * token); the page then reads through the API, waiting for that token. Positions are install-wide
 * and never reach the page: a tenant must not watch other tenants' activity.
 *
 * `POST /ui/ledger-verify/:tenant`: runs the ledger verifier over the tenant's chain and streams
 * its progress as JSON lines, ending with the tenant's report.
 */
export function registerLive(ui: FastifyInstance, ctx: DashboardContext): void {
  const open = new Set<() => void>();
  const perSession = new Map<string, number>();
  const release = (sid: string): void => {
    const n = (perSession.get(sid) ?? 1) - 1;
    if (n > 0) perSession.set(sid, n);
    else perSession.delete(sid);
  };
  ui.addHook('preClose', async () => {
    for (const stop of [...open]) stop();
  });

  const live = async (req: FastifyRequest, reply: FastifyReply, asked: string[]): Promise<void> => {
    const session = await ctx.requireSession(req);
    const tenants = [...new Set(asked)];
    if (tenants.length === 0 || tenants.length > LIVE_MAX_TENANTS) throw new StkError('STK_ERR_VALIDATION', 'name 1 to 16 customers', { field: 'tenant' });
    // Every customer must be the session's to see; one that is not answers exactly like a missing one.
    for (const tenant of tenants) {
      if (!isValidId('tenant', tenant) || !(await ctx.tenantView(session, tenant))) throw new StkError('STK_ERR_NOT_FOUND', 'not found');
    }
    const sid = sessionCookie(req)!;
    const mine = perSession.get(sid) ?? 0;
    if (open.size >= LIVE_MAX_STREAMS || mine >= LIVE_MAX_PER_SESSION) {
      throw new StkError('STK_ERR_RATE_LIMITED', 'too many live streams open', {
        limit: open.size >= LIVE_MAX_STREAMS ? LIVE_MAX_STREAMS : LIVE_MAX_PER_SESSION,
        retryAfterSeconds: 5,
      });
    }
    perSession.set(sid, mine + 1);
    let from: number;
    try {
      from = await ctx.rt.log.lastPosition();
    } catch (err) {
      release(sid);
      throw err;
    }
    const res = stream(reply, 'text/event-stream; charset=utf-8');
    const tokens = Object.fromEntries(tenants.map((t) => [t, ctx.tokens.issue(t, from)]));
    res.write(`retry: 3000\nevent: ready\ndata: ${JSON.stringify({ tokens })}\n\n`);

    const subs = tenants.map((tenant) => ({ tenant, sub: ctx.rt.log.subscribe({ filter: tenantFilter(tenant), after: from }) }));
    let stopped = false;
    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      open.delete(stop);
      release(sid);
      clearInterval(heartbeat);
      for (const { sub } of subs) void sub.stop();
      // The socket goes with the stream (it is never reused), also when the browser is still there
      // and the server is the one shutting down.
      res.end(() => res.socket?.destroy());
    };
    open.add(stop);
    res.on('close', stop);
    const heartbeat = setInterval(() => {
      void ctx.sessions.get(sid).then(
        (s) => (s ? res.write(': keep-alive\n\n') : stop()),
        () => stop(),
      );
    }, LIVE_HEARTBEAT_MS);
    for (const { tenant, sub } of subs) {
      void (async () => {
        try {
          for await (const record of sub) {
            const telemetry = record.events.filter((e) => e.aggregate.type === 'telemetry');
            if (telemetry.length) await telemetryReadable(ctx, tenant, telemetry);
            // The kind of each event is its own aggregate's: a report's alerts are born in the agent's commit.
            let consistencyToken: string | null = null;
            for (const e of record.events) {
              const kind = e.aggregate.type;
              if (!LIVE_KINDS.has(kind)) continue;
              consistencyToken ??= ctx.tokens.issue(tenant, record.position);
              res.write(`event: change\ndata: ${JSON.stringify({ tenant, kind, type: e.type, id: e.aggregate.id, consistencyToken })}\n\n`);
            }
          }
        } catch (err) {
          req.log.warn({ err, tenant }, 'live stream ended');
        } finally {
          stop();
        }
      })();
    }
  };

  ui.get('/live', { schema: { querystring: liveQuery } }, async (req, reply) => {
    const t = (req.query as { tenant: string | string[] }).tenant;
    await live(req, reply, Array.isArray(t) ? t : [t]);
  });
  ui.get('/live/:tenant', { schema: { params: tenantParams } }, async (req, reply) => {
    await live(req, reply, [(req.params as { tenant: string }).tenant]);
  });

  ui.post('/ledger-verify/:tenant', { schema: { params: tenantParams } }, async (req, reply) => {
    const session = await ctx.requireSession(req);
    assertCsrf(req, session);
    const { tenant } = req.params as { tenant: string };
    // The same wall as the ledger's API route: whoever may read the tenant's ledger may verify it.
    const status = await ctx.callApi(session, 'GET', `/tenants/${encodeURIComponent(tenant)}/ledger`);
    if (status.statusCode !== 200) return reply.status(status.statusCode).type('application/json').send(status.rawPayload);
    assertId('tenant', tenant, 'tenant');
    const total = (status.json() as { height: number }).height;
    const res = stream(reply, 'application/x-ndjson; charset=utf-8');
    const line = (o: unknown): boolean => res.write(`${JSON.stringify(o)}\n`);
    line({ phase: 'started', entries: 0, total });
    try {
      const report = await verifyLedger({
        streams: ctx.rt.streams,
        tenants: [tenant],
        onProgress: (p) => line({ phase: 'progress', entries: p.entries, total }),
      });
      const mine = report.tenants.find((t) => t.tenant === tenant);
      line({
        phase: 'done',
        ok: mine?.ok ?? true,
        entries: mine?.entries ?? 0,
        total,
        height: mine?.height ?? 0,
        head: mine?.head ?? null,
        pending: mine?.pending ?? 0,
        break: mine?.break ?? null,
      });
    } catch (err) {
      req.log.error({ err, tenant }, 'ledger verification failed to run');
      line({ phase: 'failed', code: err instanceof StkError ? err.code : 'STK_ERR_INTERNAL' });
    } finally {
      res.end();
    }
  });
}

/**
 * Waits (bounded) until this process's telemetry read models hold the batches these events sealed.
 * The events name no stream position (schema 2), so the wait is for the newest item on each batch's
 * agent subject: every item of a batch is stored before its event. The position stays here.
 */
async function telemetryReadable(ctx: DashboardContext, tenant: string, events: ReadonlyArray<{ data: unknown }>): Promise<void> {
  const projector = ctx.rt.readModels?.telemetry.projector;
  if (!projector) return;
  let lastSeq = 0;
  for (const agentId of new Set(events.map((e) => (e.data as { agentId?: unknown }).agentId).filter((a): a is string => isValidId('token', a)))) {
    lastSeq = Math.max(lastSeq, (await ctx.rt.streams.last(TELEMETRY_STREAM, telemetrySubject(tenant, agentId)))?.seq ?? 0);
  }
  if (lastSeq > 0) await projector.waitFor(lastSeq, TELEMETRY_WAIT_MS);
}

/** Takes the response over for a stream; hooks do not run on it, so its headers are written here. */
function stream(reply: FastifyReply, type: string): ServerResponse {
  reply.hijack();
  const res = reply.raw;
  // A stream's connection is never reused: when the stream ends, so does the socket, and a server
  // that is shutting down does not wait out a keep-alive timeout on it.
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': type, 'cache-control': 'no-store', 'x-accel-buffering': 'no', connection: 'close' });
  return res;
}
