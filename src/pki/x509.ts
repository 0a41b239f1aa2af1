// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API
// loaded before the library is evaluated; every Stockade module imports the library from here.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export * from '@peculiar/x509';
