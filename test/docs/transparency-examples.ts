/**
 * The worked examples of docs/transparency.md, computed from the code: fixed seeds and a fixed
 * time, so every value is reproducible (Ed25519 signatures are deterministic). The doc test
 * checks that the page shows exactly these.
 */
import { MerkleTree, canonicalJson, leafHash } from '../../src/merkle/mod.ts';
import {
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
  cosignCheckpoint,
  ed25519NoteSigner,
  encodeBase64,
  formatCheckpoint,
  formatVerifierKey,
  signCheckpoint,
  signerKeyFromSeed,
  verifierKeyOf,
} from '../../src/transparency/mod.ts';
import { formatAddCheckpoint } from '../../src/witness/mod.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Every example value the page shows, by name. */
export function transparencyExamples(): Record<string, string> {
  const items = [
    { kind: 'account-change', source: 'local', change: 'added', account: 'mallory', uid: 1003, group: null, privileged: false, details: {} },
    { kind: 'process', pid: 4242, name: 'sh' },
    { kind: 'connection', protocol: 'tcp', state: 'LISTEN', localAddress: '0.0.0.0', localPort: 22 },
  ];
  const leaves = items.map((i) => leafHash(canonicalJson(i)));
  const tree = new MerkleTree();
  for (const l of leaves) tree.append(l);

  const log = signerKeyFromSeed('stockade.example/tenant/acme', SIG_TYPE_ED25519, new Uint8Array(32).fill(1));
  const witness = signerKeyFromSeed('witness.example/w1', SIG_TYPE_COSIGNATURE_V1, new Uint8Array(32).fill(2));
  const cp = { origin: log.name, size: 3, rootHash: tree.root(3), extensions: [] };
  const note = signCheckpoint(cp, [ed25519NoteSigner(log)]);
  const cosignature = cosignCheckpoint(witness, formatCheckpoint(cp), 1767225600);
  return {
    item0: new TextDecoder().decode(canonicalJson(items[0])),
    leaf0: hex(leaves[0]!),
    leaf1: hex(leaves[1]!),
    leaf2: hex(leaves[2]!),
    root2: hex(tree.root(2)),
    root3: hex(tree.root(3)),
    inclusion0: tree.inclusionProof(0, 3).map(hex).join('\n'),
    consistency23: tree.consistencyProof(2, 3).map(hex).join('\n'),
    logVkey: formatVerifierKey(verifierKeyOf(log)),
    witnessVkey: formatVerifierKey(verifierKeyOf(witness)),
    note,
    cosigned: note + cosignature,
    request: Buffer.from(formatAddCheckpoint(2, tree.consistencyProof(2, 3), note)).toString('utf8'),
    rootBase64: encodeBase64(tree.root(3)),
  };
}

if (process.argv[1]?.endsWith('transparency-examples.ts')) {
  for (const [k, v] of Object.entries(transparencyExamples())) console.log(`--- ${k}\n${v}`);
}
