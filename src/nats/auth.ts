import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StkError } from '../errors.ts';

/** The NATS users of an install (infra/nats/ledger-auth.conf): who may write what on the bus. */
export const NATS_USERS = ['app', 'sealer', 'auditor', 'ops'] as const;
export type NatsUser = (typeof NATS_USERS)[number];

/** Generated passwords of the embedded server's users, kept in `<data>/nats/credentials.json` (0600). */
export interface NatsCredentials {
  format: 1;
  users: Record<NatsUser, string>;
}

/** Where an install keeps its embedded server's credentials. */
export function credentialsPath(dataDir: string): string {
  return join(dataDir, 'nats', 'credentials.json');
}

/** The environment variable nats-server reads a user's password from (`$STOCKADE_APP_PASS`, …). */
export function passwordVariable(user: NatsUser): string {
  return `STOCKADE_${user.toUpperCase()}_PASS`;
}

/** The environment that gives nats-server every user's password. */
export function passwordEnvironment(c: NatsCredentials): Record<string, string> {
  return Object.fromEntries(NATS_USERS.map((u) => [passwordVariable(u), c.users[u]]));
}

/** Reads an install's credentials; null when it has none (an install started before they existed, or an external NATS). */
export async function readNatsCredentials(dataDir: string): Promise<NatsCredentials | null> {
  let text: string;
  try {
    text = await readFile(credentialsPath(dataDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new StkError(
      'STK_ERR_CONFIG',
      `cannot read ${credentialsPath(dataDir)}: ${(err as Error).message}`,
      { path: credentialsPath(dataDir) },
      { cause: err },
    );
  }
  const c = JSON.parse(text) as NatsCredentials;
  if (c?.format !== 1 || !NATS_USERS.every((u) => typeof c.users?.[u] === 'string' && c.users[u].length >= 16)) {
    throw new StkError('STK_ERR_CONFIG', `${credentialsPath(dataDir)} is not a credentials file of Stockade`, { path: credentialsPath(dataDir) });
  }
  return c;
}

/** The install's credentials, made (32 random bytes per user, in hex after `stk`; file mode 0600) at its first start. */
export async function ensureNatsCredentials(dataDir: string): Promise<NatsCredentials> {
  const had = await readNatsCredentials(dataDir);
  if (had) return had;
  const path = credentialsPath(dataDir);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // nats-server reads a `$VARIABLE` of its config as a config value: one starting with a digit is
  // taken for a number (and refused). A letter first and hex after keep it a plain string.
  const c: NatsCredentials = {
    format: 1,
    users: Object.fromEntries(NATS_USERS.map((u) => [u, `stk${randomBytes(32).toString('hex')}`])) as Record<NatsUser, string>,
  };
  try {
    const fh = await open(path, 'wx', 0o600);
    try {
      await fh.writeFile(`${JSON.stringify(c, null, 2)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    // Another process of this data folder made them first (cannot happen under the data lock, but cheap to honour).
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return (await readNatsCredentials(dataDir))!;
    throw err;
  }
  await chmod(path, 0o600);
  return c;
}

const PARTITIONS = 16;

/** What neither the sealer nor an auditor may do with the field-encryption key store. */
const KEY_STORE_DENY = `"$KV.stk-tenant-keys.>", "$KV.stk-data-keys.>",
              "$JS.API.DIRECT.GET.KV_stk-tenant-keys", "$JS.API.DIRECT.GET.KV_stk-tenant-keys.>", "$JS.API.DIRECT.GET.KV_stk-data-keys", "$JS.API.DIRECT.GET.KV_stk-data-keys.>",
              "$JS.API.STREAM.MSG.GET.KV_stk-tenant-keys", "$JS.API.STREAM.MSG.GET.KV_stk-data-keys",
              "$JS.API.CONSUMER.CREATE.KV_stk-tenant-keys", "$JS.API.CONSUMER.CREATE.KV_stk-tenant-keys.>", "$JS.API.CONSUMER.DURABLE.CREATE.KV_stk-tenant-keys.>",
              "$JS.API.CONSUMER.CREATE.KV_stk-data-keys", "$JS.API.CONSUMER.CREATE.KV_stk-data-keys.>", "$JS.API.CONSUMER.DURABLE.CREATE.KV_stk-data-keys.>",
              "$JS.API.STREAM.SNAPSHOT.KV_stk-tenant-keys", "$JS.API.STREAM.SNAPSHOT.KV_stk-data-keys",
              "$JS.API.STREAM.CREATE.KV_stk-tenant-keys", "$JS.API.STREAM.CREATE.KV_stk-data-keys"`;
/** The KV buckets the sealer workers keep (leases, sealed floors): the only streams besides LEDGER it may create. */
const SEALER_BUCKETS = ['stk-leases-sealer', 'stk-sealer'];
const each = (f: (p: number) => string[]): string[] => Array.from({ length: PARTITIONS }, (_, p) => f(p)).flat();
const quoted = (subjects: string[]): string => subjects.map((s) => JSON.stringify(s)).join(', ');

/**
 * The accounts block of `infra/nats/ledger-auth.conf`, which the embedded server and a separate
 * nats-server both use (a test keeps the file equal to this). Passwords are `$STOCKADE_*_PASS`
 * variables, resolved by nats-server from its environment.
 */
export function ledgerAuthConfig(): string {
  const sealerConsumers = each((p) => [`$JS.API.CONSUMER.DELETE.EVENTS.stk-sealer-p${p}`]);
  const sealerConsumerCreates = each((p) => [
    `$JS.API.CONSUMER.CREATE.EVENTS.stk-sealer-p${p}.>`,
    `$JS.API.CONSUMER.CREATE.EVENTS.stk-sealer-p${p}`,
    `$JS.API.CONSUMER.DURABLE.CREATE.EVENTS.stk-sealer-p${p}`,
  ]);
  return `# Who may write what on Stockade's bus: the embedded nats-server of \`stockade serve\` runs with
# exactly these users (generated passwords in <data>/nats/credentials.json, mode 0600), and a
# separate nats-server includes this file (separate-sealer.conf). Generated from src/nats/auth.ts
# (\`node --import tsx infra/gen-nats-auth.ts\`); test/ledger/permissions.test.ts runs it against a
# real nats-server. Passwords come from the environment of the nats-server process:
#   STOCKADE_APP_PASS, STOCKADE_SEALER_PASS, STOCKADE_AUDITOR_PASS, STOCKADE_OPS_PASS
#
# - app      \`stockade serve\` (api, ingress, projector): appends events; can never publish a
#            ledger subject nor create, change, purge or delete LEDGER or its messages, nor delete
#            or purge EVENTS or its messages.
# - sealer   the sealer (its own process, or the sealer role of serve on its own connection): the
#            only user that may publish ledger.>, ledger-checkpoint.> and ledger-keys; it reads
#            EVENTS but cannot write events nor delete anything.
# - auditor  \`stockade ledger verify|export|prove\`: read-only.
# - ops      break-glass stream administration; keep its password offline. Even ops cannot delete
#            or purge LEDGER messages: the stream has deny_delete and deny_purge.
#
# The key store of field encryption (KV buckets stk-tenant-keys and stk-data-keys, streams
# KV_stk-tenant-keys and KV_stk-data-keys) is the app's alone: neither the sealer nor an auditor
# can read a key (direct get, message get, consumer, snapshot, or a plain subscription to the
# bucket's subjects), create the bucket, or write into it (test/lifecycle/keystore-permissions.test.ts).
accounts {
  STOCKADE {
    jetstream: enabled
    users: [
      {
        user: app
        password: $STOCKADE_APP_PASS
        permissions: {
          publish: {
            # Everything the application needs (events, KV, its own subjects), except what follows.
            allow: [">"]
            deny: [
              "ledger.>", "ledger-checkpoint", "ledger-checkpoint.>", "ledger-keys",
              "$JS.API.STREAM.CREATE.LEDGER", "$JS.API.STREAM.UPDATE.LEDGER", "$JS.API.STREAM.DELETE.LEDGER",
              "$JS.API.STREAM.PURGE.LEDGER", "$JS.API.STREAM.MSG.DELETE.LEDGER", "$JS.API.STREAM.RESTORE.LEDGER",
              "$JS.API.STREAM.DELETE.EVENTS", "$JS.API.STREAM.PURGE.EVENTS", "$JS.API.STREAM.MSG.DELETE.EVENTS",
              "$JS.API.CONSUMER.DELETE.EVENTS.stk-sealer",
              # The sealers' partition consumers and their leases: the app can neither delete the
              # one nor take the other (which would stop sealing, though never forge it).
              ${quoted(sealerConsumers)},
              # Nor create (or re-create) a consumer under a sealer's name, which would make that
              # sealer stand down as superseded.
              ${quoted(sealerConsumerCreates)},
              # Nor change EVENTS: an update (max_msgs, max_age, discard old) would drop events as
              # surely as a delete. Stream settings are the ops user's.
              "$JS.API.STREAM.UPDATE.EVENTS",
              "$KV.stk-leases-sealer.>", "$JS.API.STREAM.DELETE.KV_stk-leases-sealer", "$JS.API.STREAM.PURGE.KV_stk-leases-sealer",
              "$JS.API.STREAM.UPDATE.KV_stk-leases-sealer", "$JS.API.STREAM.MSG.DELETE.KV_stk-leases-sealer",
              # Nor move a partition's sealed floor, where the next sealer of that partition starts
              # (a floor moved ahead would leave records unsealed); reading it is the ingress's backpressure.
              "$KV.stk-sealer.>", "$JS.API.STREAM.DELETE.KV_stk-sealer", "$JS.API.STREAM.PURGE.KV_stk-sealer",
              "$JS.API.STREAM.UPDATE.KV_stk-sealer", "$JS.API.STREAM.MSG.DELETE.KV_stk-sealer", "$JS.API.STREAM.CREATE.KV_stk-sealer"
            ]
          }
          subscribe: { allow: [">"] }
        }
      }
      {
        user: sealer
        password: $STOCKADE_SEALER_PASS
        permissions: {
          publish: {
            # The JetStream API subjects it uses, named one by one: a wildcard would let it create a
            # stream that sources another's (the key store's), which no deny can tell apart.
            allow: [
              "ledger.>", "ledger-checkpoint.>", "ledger-keys", "$JS.ACK.EVENTS.>", "_INBOX.>",
              "$JS.API.INFO", "$JS.API.STREAM.INFO.*", "$JS.API.STREAM.NAMES", "$JS.API.STREAM.LIST",
              "$JS.API.STREAM.MSG.GET.*", "$JS.API.DIRECT.GET.>",
              "$JS.API.STREAM.CREATE.LEDGER", ${quoted(SEALER_BUCKETS.map((b) => `$JS.API.STREAM.CREATE.KV_${b}`))},
              "$JS.API.CONSUMER.CREATE.*", "$JS.API.CONSUMER.CREATE.*.>", "$JS.API.CONSUMER.DURABLE.CREATE.*.*",
              "$JS.API.CONSUMER.INFO.*.*", "$JS.API.CONSUMER.NAMES.*", "$JS.API.CONSUMER.LIST.*",
              "$JS.API.CONSUMER.MSG.NEXT.*.*", "$JS.API.CONSUMER.DELETE.*.*",
              ${quoted(SEALER_BUCKETS.map((b) => `$KV.${b}.>`))}
            ]
            deny: [
              "ev.>",
              "$JS.API.STREAM.UPDATE.>", "$JS.API.STREAM.DELETE.>", "$JS.API.STREAM.PURGE.>",
              "$JS.API.STREAM.MSG.DELETE.>", "$JS.API.STREAM.RESTORE.>", "$JS.API.STREAM.CREATE.EVENTS",
              # The key store: no read, no create, no write (see the header).
              ${KEY_STORE_DENY}
            ]
          }
          # Nor see keys as the app writes them.
          subscribe: { allow: [">"], deny: ["$KV.stk-tenant-keys.>", "$KV.stk-data-keys.>"] }
        }
      }
      {
        user: auditor
        password: $STOCKADE_AUDITOR_PASS
        permissions: {
          publish: {
            allow: [
              "$JS.API.INFO", "$JS.API.STREAM.INFO.*", "$JS.API.STREAM.NAMES", "$JS.API.STREAM.LIST",
              "$JS.API.STREAM.MSG.GET.*", "$JS.API.DIRECT.GET.>",
              "$JS.API.CONSUMER.CREATE.*", "$JS.API.CONSUMER.CREATE.*.>", "$JS.API.CONSUMER.INFO.*.*",
              "$JS.API.CONSUMER.MSG.NEXT.*.*", "$JS.API.CONSUMER.DELETE.*.*", "_INBOX.>"
            ]
            # Its own ephemeral read consumers it may delete; the sealer's consumer it may not.
            deny: [
              # The key store: no read, no create, no write (see the header).
              ${KEY_STORE_DENY},
              "$JS.API.CONSUMER.DELETE.EVENTS.stk-sealer", ${quoted(sealerConsumers)}]
          }
          subscribe: { allow: [">"], deny: ["$KV.stk-tenant-keys.>", "$KV.stk-data-keys.>"] }
        }
      }
      { user: ops, password: $STOCKADE_OPS_PASS }
    ]
  }
}
`;
}
