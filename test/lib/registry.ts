/**
 * Registries for the tests, inside a World's namespace: Debian's docker-registry (the
 * distribution registry) over plain HTTP, TLS with a test CA, htpasswd basic auth, or
 * token auth through registry-token-child.ts (Docker's token spec); skopeo as a second
 * client; a CA made with openssl. Every process is the world's child (ended by dispose)
 * and every file lives in its folder.
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { must, REPO, sh, type World } from './world.js';

/** Why the registry tests cannot run here, or undefined when they can. */
export function registryMissing(): string | undefined {
  for (const bin of ['docker-registry', 'skopeo', 'openssl', 'htpasswd']) {
    if (!['/usr/bin', '/usr/sbin', '/usr/local/bin'].some((d) => fs.existsSync(path.join(d, bin)))) {
      return `${bin} is not installed (scripts/install-deps.sh installs docker-registry, skopeo, apache2-utils)`;
    }
  }
  return undefined;
}

export interface TestCa {
  dir: string;
  caCert: string;
  /** A server certificate for `names` (DNS names or IPs) signed by the CA, and its key. */
  issue(name: string, sans: readonly string[]): Promise<{ cert: string; key: string }>;
}

/** A CA in `dir` (openssl; RSA 2048, ten days). */
export async function makeCa(dir: string): Promise<TestCa> {
  fs.mkdirSync(dir, { recursive: true });
  const caKey = path.join(dir, 'ca.key');
  const caCert = path.join(dir, 'ca.crt');
  await must('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', caCert, '-days', '10', '-subj', '/CN=berth test CA']);
  return {
    dir,
    caCert,
    issue: async (name, sans) => {
      const key = path.join(dir, `${name}.key`);
      const csr = path.join(dir, `${name}.csr`);
      const cert = path.join(dir, `${name}.crt`);
      const ext = path.join(dir, `${name}.ext`);
      fs.writeFileSync(ext, `subjectAltName=${sans.map((s) => (/^[\d.]+$/.test(s) || s.includes(':') ? `IP:${s}` : `DNS:${s}`)).join(',')}\n`);
      await must('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${name}`]);
      await must('openssl', ['x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '10', '-extfile', ext]);
      return { cert, key };
    },
  };
}

export interface RegistryOptions {
  /** Address and port it listens on inside the world's namespace (default 127.0.0.1:5000). */
  addr?: string;
  tls?: { cert: string; key: string };
  /** user -> password: htpasswd basic auth. */
  users?: Record<string, string>;
  /** Token auth: the token server's realm, service, issuer and its signing certificate. */
  token?: { realm: string; service: string; issuer: string; cert: string };
}

export class TestRegistry {
  private child: ChildProcess | undefined;

  private constructor(
    readonly w: World,
    readonly dir: string,
    readonly addr: string,
    private readonly configFile: string,
    readonly scheme: 'http' | 'https',
  ) {}

  /** Start docker-registry in the world's namespace and wait until it answers. */
  static async start(w: World, name: string, opts: RegistryOptions = {}): Promise<TestRegistry> {
    const dir = path.join(w.dir, `registry-${name}`);
    fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
    const addr = opts.addr ?? '127.0.0.1:5000';
    const lines = ['version: 0.1', 'log:', '  level: warn', 'storage:', '  filesystem:', `    rootdirectory: ${dir}/data`, '  delete:', '    enabled: true', 'http:', `  addr: ${addr}`, '  secret: berth-test'];
    if (opts.tls) lines.push('  tls:', `    certificate: ${opts.tls.cert}`, `    key: ${opts.tls.key}`);
    if (opts.users) {
      const file = path.join(dir, 'htpasswd');
      fs.writeFileSync(file, '');
      for (const [user, password] of Object.entries(opts.users)) await must('htpasswd', ['-Bb', file, user, password]);
      lines.push('auth:', '  htpasswd:', '    realm: berth-test', `    path: ${file}`);
    }
    if (opts.token) {
      lines.push('auth:', '  token:', `    realm: ${opts.token.realm}`, `    service: ${opts.token.service}`, `    issuer: ${opts.token.issuer}`, `    rootcertbundle: ${opts.token.cert}`);
    }
    const configFile = path.join(dir, 'config.yml');
    fs.writeFileSync(configFile, `${lines.join('\n')}\n`);
    const r = new TestRegistry(w, dir, addr, configFile, opts.tls ? 'https' : 'http');
    await r.run();
    return r;
  }

  /** (Re)start the registry process on the same storage. */
  async run(): Promise<void> {
    this.child = this.w.spawnIn(this.w.ns, ['docker-registry', 'serve', this.configFile]);
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const r = await this.w.inNs(this.w.ns, ['curl', '-sk', '-o', '/dev/null', '-w', '%{http_code}', `${this.scheme}://${this.addr}/v2/`]);
      if (r.stdout === '200' || r.stdout === '401') return;
      if (this.child.exitCode !== null) throw new Error(`docker-registry exited ${this.child.exitCode}`);
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error('docker-registry did not answer within 15 s');
  }

  /** SIGKILL the registry (it dies mid-request). */
  async kill(): Promise<void> {
    const c = this.child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise((res) => c.once('exit', res).kill('SIGKILL'));
  }

  /** The on-disk file of a blob in the registry's storage. */
  blobFile(digest: string): string {
    const hex = digest.replace(/^sha256:/, '');
    return path.join(this.dir, 'data/docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
  }

  /** skopeo in the world's namespace (a second client, not written by berth). */
  async skopeo(...args: string[]): Promise<string> {
    // In a mount namespace of its own with a tmpfs on /var/lib: skopeo, run as root, keeps a
    // blob cache in /var/lib/containers/cache, which would outlive the world otherwise.
    const r = await this.w.inNs(this.w.ns, ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs berth-skopeo /var/lib && exec skopeo "$@"', 'skopeo', ...args], 120_000);
    if (r.code !== 0) throw new Error(`skopeo ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  }
}

/** The world's `docker` with its own client config folder (login's credentials), and an optional stdin. */
export async function dockerAs(w: World, configDir: string, args: readonly string[], input?: string): ReturnType<typeof sh> {
  return sh('docker', ['--config', configDir, ...args], { env: { ...process.env, DOCKER_HOST: `unix://${w.sock}` }, ...(input !== undefined ? { input } : {}), timeoutMs: 180_000 });
}

/** Start the token server (registry-token-child.ts) in the world's namespace on `addr`. */
export async function startTokenServer(w: World, dir: string, addr: string, users: Record<string, string>): Promise<{ cert: string; realm: string }> {
  const key = path.join(dir, 'token.key');
  const cert = path.join(dir, 'token.crt');
  await must('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '10', '-subj', '/CN=berth test token issuer']);
  const conf = path.join(dir, 'token.json');
  fs.writeFileSync(conf, JSON.stringify({ addr, key, cert, issuer: 'berth-test-issuer', users }));
  w.spawnIn(w.ns, [process.execPath, path.join(REPO, 'dist/test/lib/registry-token-child.js'), conf]);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const r = await w.inNs(w.ns, ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', `http://${addr}/health`]);
    if (r.stdout === '200') return { cert, realm: `http://${addr}/token` };
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('token server did not answer');
}
