/**
 * Runs inside a container's network namespace (fetcher.ts starts it there) and fetches
 * one URL over and over, one request at a time, each on a new connection (so each is
 * balanced anew), `gap` ms apart. One line per fetch on stdout: `<epoch ms> <first word of
 * the answer>`, or `<epoch ms> fail <why>` (an error, a non-200, or no answer within 1 s). The
 * time is the fetch's start.
 *
 *   node fetcher-child.js URL GAP_MS
 */
import * as http from 'node:http';

const [url = '', gapArg = '20'] = process.argv.slice(2);
const gap = Number(gapArg);
const now = (): number => performance.timeOrigin + performance.now();

/** Why a fetch failed, in one word: the socket's error code (ECONNREFUSED, ECONNRESET…), `timeout`, or `http<status>`. */
const why = (e: unknown): string => (e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : e instanceof Error ? e.message : 'error');

async function fetchOnce(): Promise<string> {
  return new Promise((resolve) => {
    // busybox httpd passes a CGI's LF-only header lines on as they are.
    const req = http.get(url, { agent: false, timeout: 1000, insecureHTTPParser: true }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(res.statusCode !== 200 ? `fail http${res.statusCode}` : body.trim().split(/\s+/)[0] || 'fail empty'));
      res.on('error', (e) => resolve(`fail ${why(e)}`));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve(`fail ${why(e)}`));
  });
}

for (;;) {
  const at = now();
  const who = await fetchOnce();
  process.stdout.write(`${at.toFixed(1)} ${who}\n`);
  await new Promise((r) => setTimeout(r, gap));
}
