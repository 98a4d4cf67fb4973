/**
 * A token server as Docker's token spec describes it, for docker-registry's token
 * auth in the tests: GET /token?service=…&scope=repository:NAME:ACTIONS with optional
 * basic credentials answers {"token", "access_token", "expires_in", "issued_at"}, an
 * RS256 JWT whose x5c header carries the signing certificate (the registry trusts it
 * through its rootcertbundle). Known users get every action asked on any repository;
 * anonymous callers get pull on repositories under public/ only; a wrong password is
 * 401 with Docker Hub's {"details": …}. Run: node registry-token-child.js CONFIG.json
 */
import { createSign, randomBytes, X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';

interface Config {
  addr: string;
  key: string;
  cert: string;
  issuer: string;
  users: Record<string, string>;
}

const conf = JSON.parse(fs.readFileSync(process.argv[2]!, 'utf8')) as Config;
const key = fs.readFileSync(conf.key);
const x5c = new X509Certificate(fs.readFileSync(conf.cert)).raw.toString('base64');

function b64url(v: Buffer | string): string {
  return Buffer.from(v).toString('base64url');
}

function sign(claims: Record<string, unknown>): string {
  const head = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c: [x5c] }));
  const body = b64url(JSON.stringify(claims));
  const s = createSign('RSA-SHA256').update(`${head}.${body}`).sign(key);
  return `${head}.${body}.${b64url(s)}`;
}

function who(req: http.IncomingMessage): string | undefined | false {
  const h = req.headers.authorization;
  if (h === undefined) return undefined;
  const m = /^Basic (.+)$/.exec(h);
  if (m === null) return false;
  const pair = Buffer.from(m[1]!, 'base64').toString();
  const i = pair.indexOf(':');
  const user = pair.slice(0, i);
  return conf.users[user] !== undefined && conf.users[user] === pair.slice(i + 1) ? user : false;
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', `http://${conf.addr}`);
  if (url.pathname === '/health') return void res.end('ok');
  if (url.pathname !== '/token') {
    res.statusCode = 404;
    return void res.end();
  }
  const user = who(req);
  if (user === false) {
    res.writeHead(401, { 'Content-Type': 'application/json' });
    return void res.end(JSON.stringify({ details: 'incorrect username or password' }));
  }
  const access = url.searchParams.getAll('scope').flatMap((scope) => {
    const [type, name = '', actions = ''] = scope.split(':');
    if (type !== 'repository') return [];
    const wanted = actions.split(',').filter((a) => a !== '');
    const granted = user !== undefined ? wanted : name.startsWith('public/') ? wanted.filter((a) => a === 'pull') : [];
    return [{ type, name, actions: granted }];
  });
  const now = Math.floor(Date.now() / 1000);
  const token = sign({
    iss: conf.issuer,
    sub: user ?? '',
    aud: url.searchParams.get('service') ?? '',
    exp: now + 300,
    nbf: now - 10,
    iat: now,
    jti: randomBytes(8).toString('hex'),
    access,
  });
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
});
const [host, port] = [conf.addr.slice(0, conf.addr.lastIndexOf(':')), Number(conf.addr.slice(conf.addr.lastIndexOf(':') + 1))];
server.listen(port, host);
