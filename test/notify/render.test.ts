import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { alertLink, escapeHtml, escapeSlack, renderChat, renderEmail, renderWebhookBody } from '../../src/notify/mod.ts';
import { throws } from '../helpers/assert.ts';
import { DOC_GROUP, hostileGroup } from './samples.ts';

const test = suite('notify: rendering messages (pure)');

const BASE = 'https://stockade.example.test';
const ctx = { deliveryId: 'dl_1', notifiedCount: 0, dashboardBaseUrl: BASE };

test('the webhook body has the documented shape', () => {
  assert.equal(JSON.parse(renderWebhookBody(DOC_GROUP, { deliveryId: 'dl_Zk3v9Qm1', notifiedCount: 10, dashboardBaseUrl: BASE })), {
    type: 'stockade.alert',
    version: 1,
    deliveryId: 'dl_Zk3v9Qm1',
    tenant: 'acme',
    event: 'update',
    alert: {
      id: 'al_7Hq2',
      title: 'Shell spawned by a web server',
      severity: 'high',
      rule: { id: 'stk-shell-from-web', version: 3 },
      attack: ['T1059.004', 'T1190'],
      host: 'web-01',
      count: 12,
      previousCount: 10,
      firstSeen: '2025-06-01T09:58:12.000Z',
      lastSeen: '2025-06-01T10:04:40.000Z',
      url: `${BASE}/ui/t/acme/alerts/al_7Hq2`,
    },
  });
  assert.is(JSON.parse(renderWebhookBody(DOC_GROUP, ctx)).event, 'new');
});

test('rendering is pure: the same group and delivery give the same bytes', () => {
  const g = hostileGroup();
  assert.is(renderWebhookBody(g, ctx), renderWebhookBody({ ...g }, { ...ctx }));
  assert.is(renderChat(g, ctx), renderChat(g, ctx));
  assert.equal(renderEmail(g, ctx), renderEmail(g, ctx));
});

test('escaping: HTML escapes & < > " \' and Slack escapes & < >', () => {
  assert.is(escapeHtml(`<a href="x" onclick='y'>&</a>`), '&#60;a href=&#34;x&#34; onclick=&#39;y&#39;&#62;&#38;&#60;/a&#62;');
  assert.is(escapeSlack('<!here> & <https://evil.example|click>'), '&lt;!here&gt; &amp; &lt;https://evil.example|click&gt;');
});

test('e-mail: the subject is one line; the HTML holds no markup from the alert; the text keeps it readable', () => {
  const m = renderEmail(hostileGroup(), ctx);
  assert.not.match(m.subject, /[\r\n]/);
  assert.not.ok(m.html.includes('<script>'));
  assert.not.ok(m.html.includes('<!channel>'));
  assert.ok(m.html.includes('&#60;script&#62;'));
  assert.ok(m.text.includes('Shell spawned by web server <script>alert(1)</script> & more'), 'plain text is not HTML-escaped');
  assert.not.match(m.text.split('\n').find((l) => l.startsWith('Host:'))!, /\r/);
});

test('untrusted text is capped and control characters removed', () => {
  const g = hostileGroup({ title: `x${'\u0007'.repeat(3)}${'y'.repeat(1000)}`, host: 'h\u2028ost' });
  const body = JSON.parse(renderWebhookBody(g, ctx));
  assert.is(body.alert.title.length, 300);
  assert.ok(body.alert.title.startsWith('x y'));
  assert.ok(body.alert.title.endsWith('…'));
  assert.is(body.alert.host, 'h ost');
  const chat = JSON.parse(renderChat(g, ctx));
  for (const f of chat.blocks[1].fields) assert.ok(f.text.length < 3000);
});

test('the dashboard link: ids checked, the base path kept, a `|` cannot end a Slack link early', () => {
  assert.is(alertLink('https://soc.example/stockade/', 'acme', 'al_1'), 'https://soc.example/stockade/ui/t/acme/alerts/al_1');
  assert.is(alertLink('https://soc.example/a|b', 'acme', 'al_1'), 'https://soc.example/a%7Cb/ui/t/acme/alerts/al_1');
  throws(() => alertLink('https://soc.example', 'acme', 'al/../x'), 'STK_ERR_INVALID_ID');
  throws(() => alertLink('https://soc.example', 'ACME', 'al_1'), 'STK_ERR_INVALID_ID');
  throws(() => alertLink('not a url', 'acme', 'al_1'), 'STK_ERR_CONFIG');
  throws(() => alertLink('javascript:alert(1)', 'acme', 'al_1'), 'STK_ERR_CONFIG');
});

test.run();
