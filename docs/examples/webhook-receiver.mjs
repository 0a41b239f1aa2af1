// A Stockade webhook receiver: Node.js 18 or later, no dependencies.
//   STOCKADE_WEBHOOK_SECRET=stk_whsec_… PORT=9000 node webhook-receiver.mjs
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

const secret = process.env.STOCKADE_WEBHOOK_SECRET;
const toleranceSeconds = 300;
const seen = new Set(); // delivery ids already handled; keep them for longer than the tolerance

function verify(signatureHeader, rawBody, nowSeconds) {
  let t = null;
  const signatures = [];
  for (const part of String(signatureHeader ?? '').split(',')) {
    const [key, value = ''] = part.trim().split('=');
    if (key === 't' && /^[0-9]{1,12}$/.test(value)) t = Number(value);
    if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(Buffer.from(value, 'hex'));
  }
  if (t === null || signatures.length === 0) return 'malformed-signature';
  if (Math.abs(nowSeconds - t) > toleranceSeconds) return 'timestamp-out-of-tolerance';
  const expected = createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest();
  return signatures.some((s) => timingSafeEqual(s, expected)) ? 'ok' : 'signature-mismatch';
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const rawBody = Buffer.concat(chunks); // verify the bytes as received, before JSON.parse
    const verdict = verify(req.headers['stockade-signature'], rawBody, Math.floor(Date.now() / 1000));
    if (verdict !== 'ok') {
      res.writeHead(401).end(verdict);
      return;
    }
    const message = JSON.parse(rawBody.toString('utf8'));
    if (seen.has(message.deliveryId)) {
      res.writeHead(200).end('already handled'); // a retry of a delivery we took: answer 2xx, act once
      return;
    }
    seen.add(message.deliveryId);
    console.log(`accepted ${message.deliveryId}: ${message.alert.severity} ${message.alert.title} on ${message.alert.host} (${message.alert.count})`);
    res.writeHead(204).end();
  });
});
server.listen(Number(process.env.PORT ?? 9000), process.env.HOST ?? '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`);
});
