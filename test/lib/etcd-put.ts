/**
 * Run inside a test's namespace (nsenter … node etcd-put.js ENDPOINT CA CERT KEY): reads
 * `[{ "key": K, "value": V }]` from stdin and puts each (a null value deletes), through
 * that etcd's TLS. Tests use it to stand for a writer of the cluster store the test does
 * not run (the orchestrator writing a service or a task).
 */
import * as fs from 'node:fs';
import { Etcd3 } from 'etcd3';

const [endpoint, ca, cert, key] = process.argv.slice(2) as [string, string, string, string];
const client = new Etcd3({ hosts: [endpoint], credentials: { rootCertificate: fs.readFileSync(ca), certChain: fs.readFileSync(cert), privateKey: fs.readFileSync(key) } });
try {
  const puts = JSON.parse(fs.readFileSync(0, 'utf8')) as { key: string; value: unknown }[];
  for (const p of puts) {
    if (p.value === null) await client.delete().key(p.key);
    else await client.put(p.key).value(JSON.stringify(p.value));
  }
} finally {
  client.close();
}
