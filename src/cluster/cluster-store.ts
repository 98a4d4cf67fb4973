/**
 * berthd --cluster-store etcd://h1:2379,h2:2379 [--cluster-store-opt kv.cacertfile=…
 * kv.certfile=… kv.keyfile=…]: an etcd cluster berth does not run, where a swarm keeps its
 * state instead of in etcd members of its managers (dockerd's flags of the same names,
 * which took a libkv URL and the TLS files). Parsed once at start; the files are read
 * when the node connects, so a renewed certificate is taken at the next connection.
 */
import * as fs from 'node:fs';
import { invalid, unavailable } from '../errors.js';
import { splitHostPort } from './addresses.js';
import type { ExternalStore } from './session.js';

export const CLUSTER_STORE_OPTS = ['kv.cacertfile', 'kv.certfile', 'kv.keyfile'] as const;
type ClusterStoreOpt = (typeof CLUSTER_STORE_OPTS)[number];

/** The flags, checked: the members' URLs and the TLS files. */
export interface ClusterStoreConfig {
  /** http(s)://host:port, https when a CA file is given. */
  endpoints: string[];
  /** PEM files: the root to trust, and this node's client certificate and key. */
  tls?: { ca: string; cert?: string; key?: string };
}

const ETCD_PORT = 2379;

/** --cluster-store and its --cluster-store-opt values; throws InvalidParameter naming what is wrong. */
export function parseClusterStore(url: string, opts: Readonly<Record<string, string>>): ClusterStoreConfig {
  const m = /^([a-z0-9]+):\/\/(.*)$/.exec(url);
  if (!m) throw invalid(`invalid --cluster-store ${JSON.stringify(url)}: expected etcd://host:port[,host:port…]`);
  if (m[1] !== 'etcd') throw invalid(`unsupported --cluster-store backend ${JSON.stringify(m[1])}: berth keeps a swarm's state in etcd only (etcd://host:port[,host:port…])`);
  const hosts = m[2]!.replace(/\/.*$/, '').split(',').filter((h) => h !== '');
  if (hosts.length === 0) throw invalid(`invalid --cluster-store ${JSON.stringify(url)}: no etcd address`);
  for (const key of Object.keys(opts)) {
    if (!(CLUSTER_STORE_OPTS as readonly string[]).includes(key)) throw invalid(`unknown --cluster-store-opt ${JSON.stringify(key)} (berth takes ${CLUSTER_STORE_OPTS.join(', ')})`);
  }
  const o = opts as Partial<Record<ClusterStoreOpt, string>>;
  if ((o['kv.certfile'] === undefined) !== (o['kv.keyfile'] === undefined)) throw invalid('--cluster-store-opt kv.certfile and kv.keyfile go together');
  if (o['kv.certfile'] !== undefined && o['kv.cacertfile'] === undefined) throw invalid('--cluster-store-opt kv.certfile needs kv.cacertfile (the root that signed the etcd servers)');
  const scheme = o['kv.cacertfile'] !== undefined ? 'https' : 'http';
  const endpoints = hosts.map((h) => {
    const hp = splitHostPort(h, ETCD_PORT);
    if (!hp) throw invalid(`invalid --cluster-store address ${JSON.stringify(h)}`);
    return `${scheme}://${hp.host.includes(':') ? `[${hp.host}]` : hp.host}:${hp.port}`;
  });
  return {
    endpoints,
    ...(o['kv.cacertfile'] !== undefined ? { tls: { ca: o['kv.cacertfile'], ...(o['kv.certfile'] !== undefined ? { cert: o['kv.certfile'], key: o['kv.keyfile']! } : {}) } } : {}),
  };
}

/** The store with its TLS files read (Unavailable naming a file that cannot be read). */
export function loadClusterStore(c: ClusterStoreConfig): ExternalStore {
  const read = (opt: ClusterStoreOpt, file: string): Buffer => {
    try {
      return fs.readFileSync(file);
    } catch (e: unknown) {
      throw unavailable(`cannot read --cluster-store-opt ${opt}=${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  };
  if (!c.tls) return { endpoints: c.endpoints };
  return {
    endpoints: c.endpoints,
    tls: {
      ca: read('kv.cacertfile', c.tls.ca),
      ...(c.tls.cert !== undefined ? { cert: read('kv.certfile', c.tls.cert) } : {}),
      ...(c.tls.key !== undefined ? { key: read('kv.keyfile', c.tls.key) } : {}),
    },
  };
}
