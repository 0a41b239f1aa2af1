// One certificate-issuing thread of src/pki/issuer.ts: it opens the install's CA from the data
// folder itself, so the CA key is never passed between threads.
import { parentPort, workerData } from 'node:worker_threads';
import { isStkError } from '../errors.ts';
import { InstallCa } from './ca.ts';
import { issueFromCsr } from './issuer.ts';

const port = parentPort!;

try {
  const ca = await InstallCa.open((workerData as { pkiDir: string }).pkiDir);
  port.on('message', (m: { id: number; csrPem: string; agentId: string; tenant: string; now: number; validityDays: number }) => {
    try {
      const r = issueFromCsr(ca, {
        csrPem: m.csrPem,
        agentId: m.agentId,
        tenant: m.tenant,
        now: new Date(m.now),
        ...(m.validityDays ? { validityDays: m.validityDays } : {}),
      });
      port.postMessage({ id: m.id, ok: true, result: { ...r, notBefore: r.notBefore.getTime(), notAfter: r.notAfter.getTime() } });
    } catch (err) {
      // Only the catalogue's refusals (bad CSR, refused key) cross back; anything else is a fault.
      if (isStkError(err)) port.postMessage({ id: m.id, ok: false, code: err.code, message: err.message });
      else port.postMessage({ id: m.id, ok: false, code: 'STK_ERR_INTERNAL', message: 'certificate issuing failed' });
    }
  });
  port.postMessage({ ready: true });
} catch (err) {
  port.postMessage({ error: (err as Error).message });
}
