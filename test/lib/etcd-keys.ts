/**
 * Run inside a test's namespace (nsenter … node etcd-keys.js ENDPOINT CA CERT KEY):
 * prints every key of that etcd, as a JSON array, through its TLS.
 */
import * as fs from 'node:fs';
import { Etcd3 } from 'etcd3';

const [endpoint, ca, cert, key] = process.argv.slice(2) as [string, string, string, string];
const client = new Etcd3({ hosts: [endpoint], credentials: { rootCertificate: fs.readFileSync(ca), certChain: fs.readFileSync(cert), privateKey: fs.readFileSync(key) } });
try {
  const keys = await client.getAll().prefix('').keys();
  process.stdout.write(JSON.stringify(keys.sort()) + '\n');
} finally {
  client.close();
}
