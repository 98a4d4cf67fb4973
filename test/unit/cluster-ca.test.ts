import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tls from 'node:tls';
import { once } from 'node:events';
import { certIdentity, createRootCa, nodeRequest, signNode } from '../../src/cluster/ca.js';

describe('cluster CA', () => {
  it('signs a node request with the identity the CA decides, which TLS then trusts', async () => {
    const root = await createRootCa('cluster1');
    const { key, csr } = await nodeRequest('node-a');
    const cert = await signNode(root, csr, { nodeId: 'node-a', role: 'manager', clusterId: 'cluster1' }, ['127.0.0.1']);
    assert.deepEqual(await certIdentity(cert, root.cert), { nodeId: 'node-a', role: 'manager', clusterId: 'cluster1' });
    // A TLS server with the node's certificate, a client that trusts only the root and checks the address.
    const server = tls.createServer({ key, cert, ca: root.cert, requestCert: true }, (s) => s.end('hi'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const client = await nodeRequest('node-b');
    const clientCert = await signNode(root, client.csr, { nodeId: 'node-b', role: 'worker', clusterId: 'cluster1' }, []);
    const got = await new Promise<string>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, ca: root.cert, key: client.key, cert: clientCert }, () => undefined);
      let data = '';
      s.on('data', (b: Buffer) => (data += b.toString()));
      s.on('end', () => resolve(data));
      s.on('error', reject);
    });
    server.close();
    assert.equal(got, 'hi');
  });

  it('refuses a certificate of another cluster', async () => {
    const a = await createRootCa('a');
    const b = await createRootCa('b');
    const { csr } = await nodeRequest('n');
    const fromB = await signNode(b, csr, { nodeId: 'n', role: 'worker', clusterId: 'b' }, []);
    await assert.rejects(certIdentity(fromB, a.cert), /not signed by this cluster/);
  });
});
