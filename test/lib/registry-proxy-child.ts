/**
 * A proxy in front of a test registry, to make the failures a real one shows: its
 * mode (read from MODE_FILE on every request) is "pass", "429" (manifest requests
 * answered 429 TOOMANYREQUESTS, as Docker Hub's rate limit) or "slow" (blob bodies
 * sent at about 1 MB/s, so a test can kill the registry mid-pull).
 * Run: node registry-proxy-child.js LISTEN_HOST:PORT UPSTREAM_HOST:PORT MODE_FILE
 */
import * as fs from 'node:fs';
import * as http from 'node:http';

const [listen = '', upstream = '', modeFile = ''] = process.argv.slice(2);
const split = (a: string): [string, number] => [a.slice(0, a.lastIndexOf(':')), Number(a.slice(a.lastIndexOf(':') + 1))];
const [upHost, upPort] = split(upstream);

function mode(): string {
  try {
    return fs.readFileSync(modeFile, 'utf8').trim();
  } catch {
    return 'pass';
  }
}

const server = http.createServer((req, res) => {
  const m = mode();
  if (m === '429' && /\/manifests\//.test(req.url ?? '')) {
    res.writeHead(429, { 'Content-Type': 'application/json' });
    return void res.end(JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'You have reached your pull rate limit. You may increase the limit by authenticating and upgrading' }] }));
  }
  const up = http.request({ host: upHost, port: upPort, method: req.method, path: req.url, headers: { ...req.headers, host: upstream } }, (ur) => {
    res.writeHead(ur.statusCode ?? 502, ur.headers);
    if (m !== 'slow' || !/\/blobs\//.test(req.url ?? '')) return void ur.pipe(res);
    ur.on('data', (chunk: Buffer) => {
      ur.pause();
      res.write(chunk, () => setTimeout(() => ur.resume(), Math.ceil(chunk.length / 1000)));
    });
    ur.on('end', () => res.end());
    ur.on('error', () => res.destroy());
  });
  up.on('error', () => (res.headersSent ? res.destroy() : (res.writeHead(502), res.end())));
  req.pipe(up);
});
const [host, port] = split(listen);
server.listen(port, host);
