/**
 * Runs inside a container's network namespace (fetcher.ts starts it there) and fetches
 * one URL over and over, one request at a time, each on a new connection (so each is
 * balanced anew), `gap` ms apart. One line per fetch on stdout: `<epoch ms> <first word of
 * the answer>`, or `<epoch ms> fail` (an error, a non-200, or no answer within 1 s). The
 * time is the fetch's start.
 *
 *   node fetcher-child.js URL GAP_MS
 */
import * as http from 'node:http';

const [url = '', gapArg = '20'] = process.argv.slice(2);
const gap = Number(gapArg);
const now = (): number => performance.timeOrigin + performance.now();

async function fetchOnce(): Promise<string> {
  return new Promise((resolve) => {
    // busybox httpd passes a CGI's LF-only header lines on as they are.
    const req = http.get(url, { agent: false, timeout: 1000, insecureHTTPParser: true }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(res.statusCode === 200 ? (body.trim().split(/\s+/)[0] ?? 'fail') || 'fail' : 'fail'));
      res.on('error', () => resolve('fail'));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve('fail'));
  });
}

for (;;) {
  const at = now();
  const who = await fetchOnce();
  process.stdout.write(`${at.toFixed(1)} ${who}\n`);
  await new Promise((r) => setTimeout(r, gap));
}
