/** Items and rule snippets shared by the detection tests. */
import { loadRule, type Problem, type Rule } from '../../src/detect/mod.ts';
import type { AccountChangeItem, ConnectionItem, ProcessItem } from '../../src/detect/records.ts';

/** A benign process start; tests override what they are about. */
export function proc(over: Partial<ProcessItem> = {}): ProcessItem {
  return {
    kind: 'process',
    pid: 4242,
    ppid: 1,
    uid: 1000,
    user: 'alice',
    exe: '/usr/bin/ls',
    name: 'ls',
    sha256: 'ab'.repeat(32),
    cmdline: 'ls -la /home/alice',
    cmdlineTruncated: false,
    startedAt: '2026-11-30T10:00:00.000Z',
    cwd: '/home/alice',
    parentExe: '/usr/bin/bash',
    parentName: 'bash',
    parentCmdline: '-bash',
    ...over,
  };
}

export function conn(over: Partial<ConnectionItem> = {}): ConnectionItem {
  return {
    kind: 'connection',
    protocol: 'tcp',
    state: 'ESTABLISHED',
    localAddress: '10.0.0.5',
    localPort: 45000,
    remoteAddress: '93.184.216.34',
    remotePort: 443,
    pid: 4242,
    exe: '/usr/bin/curl',
    user: 'alice',
    ...over,
  };
}

export function account(over: Partial<AccountChangeItem> = {}): AccountChangeItem {
  return { kind: 'account-change', source: 'local', change: 'added', account: 'bob', uid: 1001, group: null, privileged: false, details: {}, ...over };
}

/** A complete rule around a process_creation `detection` block (given indented by 4). */
export function procRule(detection: string, extra = ''): string {
  return `title: Test rule
id: 0b6f2f0e-3c1d-4a57-9a43-7e1f0c2d9b11
logsource:
    product: linux
    category: process_creation
detection:
${detection}
level: medium
${extra}`;
}

/** Loads `text` or fails the test with the problems. */
export function mustLoad(text: string, file = 'test.yml'): Rule {
  const r = loadRule(text, file);
  if (!r.ok) throw new Error(`rule refused:\n${r.problems.map((p) => `  ${p.line}:${p.col} ${p.path}: ${p.reason}`).join('\n')}`);
  return r.rule;
}

/** The problems of a rule that must be refused. */
export function refused(text: string, file = 'bad.yml'): Problem[] {
  const r = loadRule(text, file);
  if (r.ok) throw new Error('rule was accepted but must be refused');
  return r.problems;
}

/** 1-based line of the first line of `text` containing `needle` (nth occurrence when given). */
export function lineOf(text: string, needle: string, nth = 1): number {
  let seen = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) if (lines[i]!.includes(needle) && ++seen === nth) return i + 1;
  throw new Error(`no line contains ${JSON.stringify(needle)}`);
}
