import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { Issuer, createAgentKeyAndCsr, certificateFacts } from '../../src/pki/mod.ts';
import { tempDir } from '../helpers/nats.ts';
import { rejects } from '../helpers/assert.ts';

const test = suite('certificate issuing threads');

test('threads issue with the same CA as the calling thread, and refusals keep their codes across the thread boundary', async () => {
  const dir = await tempDir();
  const pooled = await Issuer.open(join(dir.path, 'pki'), { size: 2 });
  const inline = await Issuer.open(join(dir.path, 'pki'), { size: 0 });
  try {
    assert.is(pooled.ca.certificatePem, inline.ca.certificatePem);
    const csrs = await Promise.all(Array.from({ length: 6 }, () => createAgentKeyAndCsr()));
    const now = new Date();
    const issued = await Promise.all(csrs.map((c, i) => pooled.issue({ csrPem: c.csrPem, agentId: `agent-${i}`, tenant: 'acme', now })));
    assert.equal(
      issued.map((c) => certificateFacts(c.pem).commonName),
      csrs.map((_, i) => `agent-${i}`),
    );
    assert.ok(issued.every((c) => c.keyType === 'ec-P-256' && c.notAfter > now));
    await rejects(pooled.issue({ csrPem: 'not a csr', agentId: 'x', tenant: 'acme', now }), 'STK_ERR_PKI_CSR_INVALID');
    await rejects(inline.issue({ csrPem: 'not a csr', agentId: 'x', tenant: 'acme', now }), 'STK_ERR_PKI_CSR_INVALID');
    const weak = await createAgentKeyAndCsr({ rsaBits: 1024 });
    await rejects(pooled.issue({ csrPem: weak.csrPem, agentId: 'x', tenant: 'acme', now }), 'STK_ERR_PKI_KEY_REFUSED');
  } finally {
    await pooled.close();
    await inline.close();
    await dir.cleanup();
  }
});

test.run();
