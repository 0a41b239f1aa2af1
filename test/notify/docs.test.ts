import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { newId } from '../../src/ids.ts';
import { renderWebhookBody, sendWebhook, signWebhook } from '../../src/notify/mod.ts';
import { tempDir } from '../helpers/nats.ts';
import { DOC_GROUP, hostileGroup } from './samples.ts';

/** docs/notifications.md shows tested code: its examples are the files the tests run, byte for byte. */
const test = suite('docs: notifications examples are the tested files and they work');

const root = resolve(import.meta.dirname, '../..');
const SECRET = 'stk_whsec_doc-example-secret-0123456789abcdef';

async function docBlock(marker: string): Promise<string> {
  const doc = await readFile(join(root, 'docs/notifications.md'), 'utf8');
  const at = doc.indexOf(`<!-- ${marker} -->`);
  assert.ok(at >= 0, `marker ${marker}`);
  const m = /```[a-z]*\n([\s\S]*?)```/.exec(doc.slice(at));
  return m![1]!;
}

test('the documented files are shown whole in the page', async () => {
  for (const file of ['docs/examples/webhook-receiver.mjs', 'docs/examples/verify-webhook.sh']) {
    assert.is(await docBlock(`file: ${file}`), await readFile(join(root, file), 'utf8'), file);
  }
});

test('the documented webhook body is what renderWebhookBody makes', async () => {
  const shown = JSON.parse(await docBlock('example: webhook-body'));
  const made = JSON.parse(renderWebhookBody(DOC_GROUP, { deliveryId: 'dl_Zk3v9Qm1', notifiedCount: 10, dashboardBaseUrl: 'https://stockade.example.com' }));
  assert.equal(shown, made);
});

/** Starts the example receiver and resolves with its port and its output lines. */
async function startExampleReceiver(): Promise<{ child: ChildProcess; port: number; lines: string[] }> {
  const child = spawn(process.execPath, [join(root, 'docs/examples/webhook-receiver.mjs')], {
    env: { ...process.env, STOCKADE_WEBHOOK_SECRET: SECRET, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error('the example receiver did not start')), 10_000);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        lines.push(line);
        const m = /^listening on (\d+)$/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolvePort(Number(m[1]));
        }
      }
    });
    child.on('exit', () => reject(new Error('the example receiver exited')));
  });
  return { child, port, lines };
}

test('the Node receiver example accepts a real delivery once, refuses an altered one and a wrong secret', async () => {
  const rx = await startExampleReceiver();
  try {
    const url = `http://127.0.0.1:${rx.port}/`;
    const id = newId('dl_');
    const body = renderWebhookBody(hostileGroup(), { deliveryId: id, notifiedCount: 0, dashboardBaseUrl: 'https://stockade.example.com' });
    const send = (b: string, secret = SECRET, now = new Date()) => sendWebhook({ url, secret }, b, { deliveryId: id, now, network: { allowLoopback: true } });
    assert.equal(await send(body), { outcome: 'delivered', status: 204 });
    assert.equal(await send(body), { outcome: 'delivered', status: 200 }, 'a retry is acknowledged, not acted on');
    // A captured signature with an altered body, as an attacker would send it.
    const altered = await fetch(url, {
      method: 'POST',
      headers: { 'stockade-signature': signWebhook(SECRET, body, new Date()), 'content-type': 'application/json' },
      body: body.replace('"count":1', '"count":9'),
    });
    assert.equal([altered.status, await altered.text()], [401, 'signature-mismatch']);
    assert.equal([(await send(body, `${SECRET}x`)).status], [401]);
    const old = await send(body, SECRET, new Date(Date.now() - 3_600_000));
    assert.equal(old.outcome !== 'delivered' && old.detail, 'HTTP 401 timestamp-out-of-tolerance');
    assert.equal(
      rx.lines.filter((l) => l.startsWith('accepted')),
      [`accepted ${id}: high Shell spawned by web server <script>alert(1)</script> & more on web-01<!channel>" Bcc: victim@example.com (1)`],
    );
  } finally {
    rx.child.kill('SIGKILL');
  }
});

function runShell(header: string, bodyFile: string, env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolveRun) => {
    const child = spawn('sh', [join(root, 'docs/examples/verify-webhook.sh'), header, bodyFile], {
      env: { ...process.env, STOCKADE_WEBHOOK_SECRET: SECRET, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.on('exit', (code) => resolveRun({ code, out: out.trim() }));
  });
}

test('the shell check with openssl agrees with signWebhook', async () => {
  const dir = await tempDir('stk-notify-doc-');
  try {
    const body = renderWebhookBody(hostileGroup(), { deliveryId: 'dl_1', notifiedCount: 0, dashboardBaseUrl: 'https://stockade.example.com' });
    const file = join(dir.path, 'body.json');
    await writeFile(file, body);
    const header = signWebhook(SECRET, body, new Date());
    assert.equal(await runShell(header, file), { code: 0, out: 'ok' });
    assert.equal(await runShell(header, file, { STOCKADE_WEBHOOK_SECRET: `${SECRET}x` }), { code: 1, out: 'signature-mismatch' });
    assert.equal(await runShell(signWebhook(SECRET, body, new Date(Date.now() - 3_600_000)), file), { code: 1, out: 'timestamp-out-of-tolerance' });
    assert.equal(await runShell('v1=abc', file), { code: 1, out: 'malformed-signature' });
    await writeFile(file, `${body} `);
    assert.equal(await runShell(header, file), { code: 1, out: 'signature-mismatch' });
  } finally {
    await dir.cleanup();
  }
});

test.run();
