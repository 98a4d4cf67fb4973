/**
 * `berth topology --serve [ADDR]`: a small HTTP server (loopback by default) for the
 * topology page. It serves the page, elkjs's browser bundle, the topology as berthd
 * reads it now, and a server-sent event stream that fires whenever berthd reports a
 * container or network event, so the page redraws live.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import { createRequire } from 'node:module';
import { checkStatus, type ApiClient } from './client.js';
import { TOPOLOGY_PAGE } from './topology-page.js';

const require = createRequire(import.meta.url);

export interface TopologyServer {
  url: string;
  close(): Promise<void>;
}

export async function serveTopology(client: ApiClient, address: { host: string; port: number }, query: string): Promise<TopologyServer> {
  const elk = fs.readFileSync(require.resolve('elkjs/lib/elk.bundled.js'));
  const listeners = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/') return send(res, 'text/html; charset=utf-8', TOPOLOGY_PAGE);
    if (path === '/elk.js') return send(res, 'text/javascript', elk);
    if (path === '/topology.json') {
      void client
        .request('GET', `/berth/topology${query}`)
        .then(async (r) => checkStatus(r))
        .then((r) => {
          res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
          r.pipe(res);
        })
        .catch((e: unknown) => {
          res.writeHead(502, { 'Content-Type': 'text/plain' });
          res.end(e instanceof Error ? e.message : String(e));
        });
      return;
    }
    if (path === '/changes') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
      res.write(': berth topology changes\n\n');
      listeners.add(res);
      req.on('close', () => listeners.delete(res));
      return;
    }
    res.writeHead(404).end();
  });
  const abort = new AbortController();
  const events = await checkStatus(await client.request('GET', '/events', { query: { filters: JSON.stringify({ type: ['container', 'network'] }) }, signal: abort.signal }));
  events.on('data', () => {
    for (const l of listeners) l.write('data: change\n\n');
  });
  events.on('error', () => undefined);
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(address.port, address.host, () => res());
  });
  const bound = server.address() as { port: number };
  return {
    url: `http://${address.host.includes(':') ? `[${address.host}]` : address.host}:${bound.port}/`,
    close: async () => {
      abort.abort();
      for (const l of listeners) l.end();
      await new Promise<void>((res) => server.close(() => res()));
    },
  };
}

function send(res: http.ServerResponse, type: string, body: string | Buffer): void {
  res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(body);
}
