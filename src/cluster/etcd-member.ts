/**
 * This node's etcd member, a supervised child of berthd (Debian's etcd-server 3.4): client
 * and peer TLS with the cluster's certificates, listening on the node's advertise address
 * (and the client port on 127.0.0.1), data under <data-root>/cluster/etcd. It dies with
 * berthd (a parent-death signal) and is started again with it; its data survives.
 *
 * Files under <dir> (mode 0600, the folder 0700): ca.pem, node.pem, node-key.pem.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { systemError, unavailable } from '../errors.js';

export const CLIENT_PORT = 2379;
export const PEER_PORT = 2380;

export interface EtcdMemberConfig {
  /** The member's name: this node's ID. */
  name: string;
  /** <data-root>/cluster: certificates here, data in etcd/. */
  dir: string;
  /** The node's advertise address (IPv4). */
  address: string;
  /** `new` for the first manager; `existing` for one that joins (after MemberAdd). */
  state: 'new' | 'existing';
  /** name=https://ip:2380,… of every member, this one included. */
  initialCluster: string;
  /** The cluster's ID: etcd's initial-cluster-token, so two clusters never mix. */
  clusterId: string;
  log: (line: string) => void;
  /** Run in this network namespace (a path) instead of berthd's own (tests). */
  netns?: string;
}

/** Where a node keeps its certificates (written by the swarm code, read by etcd and clients). */
export function tlsFiles(dir: string): { ca: string; cert: string; key: string } {
  return { ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'node.pem'), key: path.join(dir, 'node-key.pem') };
}

export const peerUrl = (address: string): string => `https://${address}:${PEER_PORT}`;
export const clientUrl = (address: string): string => `https://${address}:${CLIENT_PORT}`;

export class EtcdMember {
  private exited: Promise<void>;
  private stopping = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly config: EtcdMemberConfig,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** Start the member; resolves when its process runs (readiness is the client's to wait for). */
  static start(config: EtcdMemberConfig): EtcdMember {
    const tls = tlsFiles(config.dir);
    const dataDir = path.join(config.dir, 'etcd');
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const args = [
      '--pdeathsig', 'KILL', '--', 'etcd',
      '--name', config.name,
      '--data-dir', dataDir,
      '--listen-client-urls', `${clientUrl(config.address)},https://127.0.0.1:${CLIENT_PORT}`,
      '--advertise-client-urls', clientUrl(config.address),
      '--listen-peer-urls', peerUrl(config.address),
      '--initial-advertise-peer-urls', peerUrl(config.address),
      '--initial-cluster', config.initialCluster,
      '--initial-cluster-state', config.state,
      '--initial-cluster-token', config.clusterId,
      '--client-cert-auth', '--trusted-ca-file', tls.ca, '--cert-file', tls.cert, '--key-file', tls.key,
      '--peer-client-cert-auth', '--peer-trusted-ca-file', tls.ca, '--peer-cert-file', tls.cert, '--peer-key-file', tls.key,
      '--logger', 'zap', '--log-outputs', 'stderr', '--log-level', 'warn',
    ];
    const argv = config.netns ? ['nsenter', `--net=${config.netns}`, '--', 'setpriv', ...args] : ['setpriv', ...args];
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    const member = new EtcdMember(child, config);
    child.on('error', (e) => config.log(`etcd: ${e.message}`));
    let buf = '';
    child.stderr!.on('data', (b: Buffer) => {
      buf += b.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        config.log(`etcd: ${buf.slice(0, nl)}`);
        buf = buf.slice(nl + 1);
      }
    });
    child.stderr!.on('error', () => undefined);
    child.once('exit', (code, signal) => {
      if (!member.stopping) config.log(`etcd exited (${signal ?? code ?? '?'})`);
    });
    return member;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Throws when the process is gone (a start that failed at once: a port taken, bad flags). */
  check(): void {
    if (!this.running) throw unavailable(`etcd is not running (exit ${this.child.exitCode ?? this.child.signalCode})`);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  async stop(graceMs = 5000): Promise<void> {
    this.stopping = true;
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Write the certificates a member and its clients use; the key is readable by root only. */
export function writeTls(dir: string, files: { ca: string; cert: string; key: string }): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  const paths = tlsFiles(dir);
  for (const [name, body] of [
    [paths.ca, files.ca],
    [paths.cert, files.cert],
    [paths.key, files.key],
  ] as const) {
    fs.writeFileSync(`${name}.tmp`, body, { mode: 0o600 });
    fs.renameSync(`${name}.tmp`, name);
  }
  if ((fs.statSync(paths.key).mode & 0o077) !== 0) throw systemError(`${paths.key} is readable by others`);
}
