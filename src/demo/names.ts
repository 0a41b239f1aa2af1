// The words the demo book is made of: fictional companies, people, and the MSP that runs the install.
// Every address is under `.demo.example` (RFC 2606: `.example` never reaches a real mailbox), which
// is also how `stockade demo reset` knows the people the demo made.

import type { Role } from '../api/permissions.ts';

/** A fictional customer: its display name, the id word (`demo-<slug>`) and the host name prefix. */
export interface Company {
  name: string;
  slug: string;
  prefix: string;
  /** What the company does, for the incident notes and names of its hosts' services. */
  trade: string;
}

/** The pool customers are drawn from, in a seeded order. */
export const COMPANIES: readonly Company[] = [
  { name: 'Northwind Traders', slug: 'northwind', prefix: 'nw', trade: 'wholesale' },
  { name: 'Bluefin Logistics', slug: 'bluefin', prefix: 'bf', trade: 'freight' },
  { name: 'Cedar Ridge Clinic', slug: 'cedar-ridge', prefix: 'crc', trade: 'health care' },
  { name: 'Halcyon Dental', slug: 'halcyon', prefix: 'hd', trade: 'dental practice' },
  { name: 'Ironbark Engineering', slug: 'ironbark', prefix: 'ib', trade: 'engineering' },
  { name: 'Juniper Legal', slug: 'juniper', prefix: 'jl', trade: 'law firm' },
  { name: 'Kestrel Freight', slug: 'kestrel', prefix: 'kf', trade: 'freight' },
  { name: 'Larkspur Bakeries', slug: 'larkspur', prefix: 'lb', trade: 'food production' },
  { name: 'Marlow & Finch Architects', slug: 'marlow-finch', prefix: 'mf', trade: 'architecture' },
  { name: 'Oakhaven Schools', slug: 'oakhaven', prefix: 'oh', trade: 'education' },
  { name: 'Pinecrest Credit Union', slug: 'pinecrest', prefix: 'pc', trade: 'banking' },
  { name: 'Quarry Lane Brewing', slug: 'quarry-lane', prefix: 'ql', trade: 'brewing' },
  { name: 'Riverbend Veterinary', slug: 'riverbend', prefix: 'rv', trade: 'veterinary' },
  { name: 'Saltmarsh Hotels', slug: 'saltmarsh', prefix: 'sm', trade: 'hospitality' },
  { name: 'Tidewater Insurance', slug: 'tidewater', prefix: 'tw', trade: 'insurance' },
  { name: 'Umber Print Works', slug: 'umber', prefix: 'up', trade: 'printing' },
  { name: 'Vantage Dental Labs', slug: 'vantage', prefix: 'vd', trade: 'dental lab' },
  { name: 'Willow Street Pharmacy', slug: 'willow-street', prefix: 'ws', trade: 'pharmacy' },
  { name: 'Yardley Manufacturing', slug: 'yardley', prefix: 'ym', trade: 'manufacturing' },
  { name: 'Zephyr Aero Parts', slug: 'zephyr', prefix: 'za', trade: 'aerospace parts' },
  { name: 'Amberline Energy', slug: 'amberline', prefix: 'ae', trade: 'energy' },
  { name: 'Brightwater Utilities', slug: 'brightwater', prefix: 'bw', trade: 'utilities' },
  { name: 'Copperfield Accounting', slug: 'copperfield', prefix: 'cf', trade: 'accounting' },
  { name: 'Driftwood Marinas', slug: 'driftwood', prefix: 'dm', trade: 'marinas' },
];

export const FIRST_NAMES: readonly string[] = [
  'Aisha',
  'Bruno',
  'Carmen',
  'Dmitri',
  'Elena',
  'Farid',
  'Grace',
  'Hiroshi',
  'Ingrid',
  'Jonas',
  'Keiko',
  'Luca',
  'Maya',
  'Nikolai',
  'Olivia',
  'Priya',
  'Quentin',
  'Rosa',
  'Stefan',
  'Tamsin',
  'Uma',
  'Viktor',
  'Wen',
  'Ximena',
  'Yusuf',
  'Zoe',
  'Amara',
  'Bastian',
  'Chloe',
  'Diego',
];

export const LAST_NAMES: readonly string[] = [
  'Abernathy',
  'Bauer',
  'Castillo',
  'Dubois',
  'Eriksen',
  'Fontaine',
  'Gallagher',
  'Haddad',
  'Iversen',
  'Jovanovic',
  'Kowalski',
  'Lindqvist',
  'Moreau',
  'Nakamura',
  'Oyelaran',
  'Petrov',
  'Quinn',
  'Rahman',
  'Sandoval',
  'Takahashi',
  'Ulrich',
  'Varga',
  'Whitfield',
  'Xu',
  'Yilmaz',
  'Zielinski',
  'Achterberg',
  'Brennan',
  'Costa',
  'Delacroix',
];

/** The MSP that runs the install: the same people whatever the seed (the videos name them). */
export const MSP = { name: 'Harbor Point Security', domain: 'msp.demo.example' } as const;

/** A person the demo makes: install-wide roles here, roles on customers are given per customer. */
export interface StaffMember {
  name: string;
  email: string;
  installRoles: Role[];
}

/** The MSP's own people: an analyst who works on the first two customers, and an admin. */
export const MSP_STAFF: readonly StaffMember[] = [
  { name: 'Dana Okafor', email: `dana.okafor@${MSP.domain}`, installRoles: [] },
  { name: 'Sam Whitaker', email: `sam.whitaker@${MSP.domain}`, installRoles: ['msp-admin'] },
];

/**
 * The password every person of the demo signs in with (written in the operator manual: it is a
 * demo). It passes the password policy for every name the pools can make.
 */
export const DEMO_PASSWORD = 'lantern-harbour-quiet-47';

/** Auditing firms, for the customers' read-only service tokens. */
export const AUDIT_FIRMS: readonly string[] = ['Ledgerline Audit', 'Brightpath Assurance', 'Northgate Compliance', 'Clearwater Audit Partners'];

/** Where the forensics work of the MSP happens, for chains of custody. */
export const CUSTODIANS: readonly string[] = ['Forensics locker 2', 'Evidence safe, Harbor Point office', 'Case archive (WORM bucket)'];
