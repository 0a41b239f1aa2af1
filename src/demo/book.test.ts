import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkPasswordPolicy } from '../people/passwords.ts';
import { PRODUCTS } from '../domain/products.ts';
import { planBook } from './book.ts';
import { AlertForecast } from './forecast.ts';
import { baselineItems, eventItems } from './identity.ts';
import { DEMO_PASSWORD } from './names.ts';
import { scanItems } from './scan.ts';

/**
 * The book is a pure function of (seed, customers, now): the same seed draws the same names, hosts
 * and story, another seed another; every person can sign in with the demo password; and the
 * detection rules, evaluated here as the detector evaluates them, see alerts of every severity in
 * the first customer's story.
 */
const test = suite('demo: the book drawn from a seed');
const now = new Date('2026-05-04T10:00:00.000Z');

test('the same seed draws the same book; another seed another', () => {
  const a = planBook({ seed: '7', customers: 4, now });
  assert.equal(planBook({ seed: '7', customers: 4, now }), a);
  const b = planBook({ seed: '8', customers: 4, now });
  const names = (x: typeof a) => x.customers.map((c) => c.name);
  const hosts = (x: typeof a) => x.customers.flatMap((c) => c.hosts.map((h) => h.hostname));
  assert.not.equal(names(b), names(a));
  assert.not.equal(hosts(b), hosts(a));
  // A book of fewer customers is the start of the larger one's draw for names, not another story.
  assert.is(planBook({ seed: '7', customers: 1, now }).customers[0]!.name, a.customers[0]!.name);
});

test('customers: ids with the demo prefix, the first with every product, the others mixed; unique host names', () => {
  const book = planBook({ seed: 'ids', customers: 6, now });
  assert.equal(book.customers[0]!.products, [...PRODUCTS]);
  assert.ok(new Set(book.customers.map((c) => c.products.join(','))).size >= 4, 'different product mixes');
  for (const c of book.customers) {
    assert.match(c.id, /^demo-[a-z0-9-]+$/);
    const names = c.hosts.map((h) => h.hostname);
    assert.is(new Set(names).size, names.length, c.id);
    assert.ok(
      c.hosts.some((h) => h.role === 'web'),
      c.id,
    );
  }
  assert.throws(() => planBook({ seed: 'x', customers: 0, now }), /customers must be/);
  assert.throws(() => planBook({ seed: 'x', customers: 25, now }), /customers must be/);
});

test('every person the demo makes passes the password policy with the demo password, and has a .demo.example address', () => {
  for (const seed of ['1', '2', '3', '4', '5', 'alpha', 'beta']) {
    const book = planBook({ seed, customers: 8, now });
    assert.is(new Set(book.people.map((p) => p.email)).size, book.people.length, `unique e-mails for seed ${seed}`);
    for (const p of book.people) {
      checkPasswordPolicy(DEMO_PASSWORD, p);
      assert.match(p.email, /@[a-z0-9.-]+\.demo\.example$/);
    }
  }
});

test("the flagship's story raises alerts of every severity (the detector's rules, evaluated here)", async () => {
  const c = planBook({ seed: '1', customers: 1, now }).customers[0]!;
  const f = await AlertForecast.of(c.products);
  for (const h of c.hosts) {
    f.items(h.hostname, [...h.processes, ...h.connections, ...baselineItems(h)]);
    if (h.attack) f.items(h.hostname, h.attack.items);
    f.items(h.hostname, eventItems(h));
  }
  const titles = new Set(f.expected().map((e) => e.title));
  for (const t of [
    'Reverse Shell Command Line',
    'New Account with UID 0',
    'Shell Spawned by a Web Server',
    'Program Executed from a Temporary Folder',
    'Crontab Changed by a Non-Root User',
  ])
    assert.ok(titles.has(t), t);
  // Nothing the hosts run every day matches a rule: only the first collection's administrators.
  const quiet = await AlertForecast.of(c.products);
  for (const h of c.hosts) quiet.items(h.hostname, [...h.processes, ...h.connections]);
  assert.equal(quiet.expected(), []);
});

test('scans: every address of the block on every port, in the defined order; the second run differs where the story says', () => {
  const c = planBook({ seed: '1', customers: 1, now }).customers[0]!;
  const [one, two] = [scanItems(c, 1), scanItems(c, 2)];
  assert.is(one.length, 14 * 13);
  assert.is(two.length, one.length);
  const open = (items: typeof one) => new Set(items.filter((i) => i.state === 'open').map((i) => `${i.address}:${i.port}`));
  const legacy = c.hosts.find((h) => h.role === 'legacy')!;
  const web = c.hosts.find((h) => h.role === 'web')!;
  assert.ok(open(one).has(`${legacy.ip}:23`) && !open(two).has(`${legacy.ip}:23`), 'telnet switched off');
  assert.ok(!open(one).has(`${web.ip}:8080`) && open(two).has(`${web.ip}:8080`), 'a debug server appeared');
});

test.run();
