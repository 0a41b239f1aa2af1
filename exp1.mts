import { Client, Change, Attribute } from 'ldapts';
import { readFileSync } from 'node:fs';
const ca = readFileSync('/tmp/sambx/private/tls/ca.pem');
const base = 'DC=corp,DC=stockade,DC=test';
const admin = 'CN=Administrator,CN=Users,' + base;
const c = new Client({ url: 'ldaps://10.123.45.2', tlsOptions: { ca, servername: 'DC1.corp.stockade.test' }, timeout: 10000, connectTimeout: 5000 });
await c.bind(admin, 'Adm1n-Passw0rd!');
const r = await c.search(base, { filter: '(objectClass=user)', attributes: ['sAMAccountName','objectSid','userAccountControl','pwdLastSet','lastLogonTimestamp','memberOf','primaryGroupID','whenCreated','objectClass','servicePrincipalName','adminCount'], paged: { pageSize: 2 }, explicitBufferAttributes: ['objectSid'] });
for (const e of r.searchEntries) console.log(JSON.stringify({ ...e, objectSid: (e.objectSid as Buffer).toString('hex') }));
const g = await c.search(base, { filter: '(objectClass=group)', attributes: ['sAMAccountName','member','groupType'], paged: { pageSize: 5 } });
console.log(g.searchEntries.length, JSON.stringify(g.searchEntries.filter(e => e.sAMAccountName==='Administrators'||e.sAMAccountName==='DnsAdmins')));
const rr = await c.search('CN=Administrators,CN=Builtin,' + base, { scope: 'base', attributes: ['member;range=0-0'] });
console.log(JSON.stringify(rr.searchEntries));
// CAS modify of uac
const dn = 'CN=alice,CN=Users,' + base;
try {
await c.modify(dn, [ new Change({ operation: 'delete', modification: new Attribute({ type: 'userAccountControl', values: ['512'] }) }), new Change({ operation: 'add', modification: new Attribute({ type: 'userAccountControl', values: ['514'] }) }) ]);
console.log('cas ok');
} catch (e) { console.log('cas err', e.constructor.name, e.code, e.message); }
try {
await c.modify(dn, [ new Change({ operation: 'delete', modification: new Attribute({ type: 'userAccountControl', values: ['512'] }) }), new Change({ operation: 'add', modification: new Attribute({ type: 'userAccountControl', values: ['514'] }) }) ]);
console.log('cas2 ok');
} catch (e) { console.log('cas2 err', e.constructor.name, e.code, e.message); }
await c.modify(dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'pwdLastSet', values: ['0'] }) }));
const a = await c.search(dn, { scope: 'base', attributes: ['userAccountControl','pwdLastSet'] });
console.log(JSON.stringify(a.searchEntries));
await c.unbind();
const u = new Client({ url: 'ldaps://10.123.45.2', tlsOptions: { ca, servername: 'DC1.corp.stockade.test' } });
try { await u.bind(dn, 'Al1ce-Passw0rd!'); console.log('bound?!'); } catch (e) { console.log('bind err', e.constructor.name, e.code, e.message); }
const u2 = new Client({ url: 'ldaps://10.123.45.2', tlsOptions: { ca } });
try { await u2.bind(dn, 'x'); } catch (e) { console.log('tls err', e.constructor.name, e.code, e.message); }
const u3 = new Client({ url: 'ldaps://10.123.45.2', tlsOptions: { ca: readFileSync('/etc/ssl/certs/ca-certificates.crt'), servername: 'DC1.corp.stockade.test' } });
try { await u3.bind(dn, 'x'); } catch (e) { console.log('tls err2', e.constructor.name, e.code, e.message); }
const s = new Client({ url: 'ldap://10.123.45.2' });
await s.startTLS({ ca, servername: 'DC1.corp.stockade.test' });
try { await s.bind(admin, 'wrong'); } catch (e) { console.log('bind err', e.constructor.name, e.code, e.message); }
await s.bind(admin, 'Adm1n-Passw0rd!'); console.log('starttls bind ok');
await s.unbind();
const p = new Client({ url: 'ldap://10.123.45.2' });
try { await p.bind(admin, 'Adm1n-Passw0rd!'); } catch (e) { console.log('plain err', e.constructor.name, e.code, e.message); }
const rootdse = await p.search('', { scope: 'base', attributes: ['defaultNamingContext','dnsHostName','supportedControl', 'supportedExtension'] });
console.log(JSON.stringify(rootdse.searchEntries));
await p.unbind();
