/**
 * Which endpoints serve a registry host, and how to speak TLS to each, by dockerd's
 * rules (daemon/pkg/registry): docker.io is registry-1.docker.io, after the
 * --registry-mirror URLs for pulls; any other host is https, and also plain http when
 * it is insecure (--insecure-registry host[:port] or a CIDR its addresses fall in;
 * loopback always is), whose https then accepts any certificate. A host's folder in
 * certs.d (<config dir>/certs.d/<host[:port]>/) adds CA roots (*.crt) and client
 * certificates (*.cert with its *.key).
 */
import * as dns from 'node:dns/promises';
import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import * as path from 'node:path';
import { invalid } from '../../../errors.js';
import type { TlsSettings } from './http.js';

export const INDEX_NAME = 'docker.io';
export const INDEX_SERVER = 'https://index.docker.io/v1/';
const DEFAULT_V2_REGISTRY = 'https://registry-1.docker.io/';

/** The daemon's registry settings (dockerd's --insecure-registry, --registry-mirror, certs.d). */
export interface RegistrySettings {
  /** host[:port] names and CIDRs, as given. */
  insecureRegistries: readonly string[];
  /** Mirror URLs of Docker Hub, tried in order before it on pulls. */
  mirrors: readonly string[];
  /** The folder of per-host certificate folders. */
  certsDir: string;
}

/** One place a registry is reached at. */
export interface Endpoint {
  /** Scheme and host, e.g. https://registry-1.docker.io. */
  url: URL;
  tls: TlsSettings;
  /** A mirror: its failures fall through to the next endpoint. */
  mirror: boolean;
}

interface Cidr {
  family: 4 | 6;
  bits: bigint;
  prefix: number;
}

function ipBits(ip: string): { family: 4 | 6; bits: bigint } | undefined {
  if (net.isIPv4(ip)) return { family: 4, bits: ip.split('.').reduce((a, o) => (a << 8n) | BigInt(Number(o)), 0n) };
  if (!net.isIPv6(ip)) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped !== null) return ipBits(mapped[1]!);
  const [head = '', tail = ''] = ip.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return { family: 6, bits: groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

function parseCidr(s: string): Cidr | undefined {
  const m = /^([^/]+)\/(\d+)$/.exec(s);
  if (m === null) return undefined;
  const ip = ipBits(m[1]!);
  const prefix = Number(m[2]);
  if (ip === undefined || prefix > (ip.family === 4 ? 32 : 128)) return undefined;
  return { ...ip, prefix };
}

function contains(c: Cidr, ip: { family: 4 | 6; bits: bigint }): boolean {
  if (c.family !== ip.family) return false;
  const width = BigInt(c.family === 4 ? 32 : 128);
  const shift = width - BigInt(c.prefix);
  return c.bits >> shift === ip.bits >> shift;
}

/** Checks a mirror URL as dockerd does and returns it normalised (with a trailing slash). */
export function validateMirror(mirror: string): string {
  let uri: URL;
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(mirror)) {
    throw invalid(`invalid mirror: no scheme specified for "${mirror}": must use either 'https://' or 'http://'`);
  }
  try {
    uri = new URL(mirror);
  } catch {
    throw invalid(`invalid mirror: "${mirror}" is not a valid URI`);
  }
  if (uri.protocol !== 'http:' && uri.protocol !== 'https:') {
    throw invalid(`invalid mirror: unsupported scheme "${uri.protocol.slice(0, -1)}" in "${mirror}": must use either 'https://' or 'http://'`);
  }
  if (uri.search !== '' || uri.hash !== '') throw invalid(`invalid mirror: query or fragment at end of the URI "${mirror}"`);
  if (uri.username !== '' || uri.password !== '') throw invalid(`invalid mirror: username/password not allowed in URI "${mirror}"`);
  return `${uri.protocol}//${uri.host}${uri.pathname.replace(/\/*$/, '')}/`;
}

/** Checks an --insecure-registry value as dockerd does; returns it without an http(s):// prefix. */
export function validateInsecureRegistry(r: string): string {
  const scheme = /^([a-zA-Z]+):\/\/(.*)$/.exec(r);
  if (scheme !== null) {
    if (!['http', 'https'].includes(scheme[1]!.toLowerCase())) throw invalid(`insecure registry ${r} should not contain '://'`);
    r = scheme[2]!;
  }
  if (parseCidr(r) !== undefined) return r;
  if (r.startsWith('-') || r.endsWith('-')) throw invalid(`invalid index name (${r}). Cannot begin or end with a hyphen`);
  if (!/^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9.-]+)(:\d{1,5})?$/.test(r)) throw invalid(`insecure registry ${r} is not valid: invalid host "${r}"`);
  return r;
}

export class RegistryHosts {
  private readonly insecureNames = new Set<string>();
  private readonly insecureCidrs: Cidr[] = [];

  constructor(private readonly settings: RegistrySettings) {
    for (const r of [...settings.insecureRegistries, '::1/128', '127.0.0.0/8']) {
      const cidr = parseCidr(r);
      if (cidr !== undefined) this.insecureCidrs.push(cidr);
      else this.insecureNames.add(r);
    }
  }

  /** Whether `host` (host[:port]) is secure: named insecure, or any of its addresses in an insecure CIDR. */
  async isSecure(host: string): Promise<boolean> {
    if (host === INDEX_NAME) return true;
    if (this.insecureNames.has(host)) return false;
    const bare = host.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
    let addresses: string[];
    if (net.isIP(bare) !== 0) addresses = [bare];
    else {
      try {
        addresses = (await dns.lookup(bare, { all: true })).map((a) => a.address);
      } catch {
        return true;
      }
    }
    return !addresses.some((a) => {
      const ip = ipBits(a);
      return ip !== undefined && this.insecureCidrs.some((c) => contains(c, ip));
    });
  }

  /** TLS settings for `host`: its certs.d folder, and no verification when it is insecure. */
  async tlsFor(host: string, secure: boolean): Promise<TlsSettings> {
    const dir = path.join(this.settings.certsDir, host);
    const tls: TlsSettings = secure ? {} : { skipVerify: true };
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch {
      return tls;
    }
    for (const name of names.sort()) {
      const file = path.join(dir, name);
      if (name.endsWith('.crt')) (tls.ca ??= []).push(await fs.readFile(file));
      else if (name.endsWith('.cert')) {
        const key = `${name.slice(0, -5)}.key`;
        if (!names.includes(key)) throw invalid(`missing key ${key} for client certificate ${name}. CA certificates must use the extension .crt`);
        tls.cert = await fs.readFile(file);
        tls.key = await fs.readFile(path.join(dir, key));
      } else if (name.endsWith('.key') && !names.includes(`${name.slice(0, -4)}.cert`)) {
        throw invalid(`missing client certificate ${name.slice(0, -4)}.cert for key ${name}`);
      }
    }
    return tls;
  }

  /** The endpoints for registry `domain`, in the order to try them; mirrors only for pulls. */
  async endpoints(domain: string, opts: { mirrors: boolean }): Promise<Endpoint[]> {
    if (domain === INDEX_NAME || domain === 'index.docker.io') {
      const out: Endpoint[] = [];
      if (opts.mirrors) {
        for (const m of this.settings.mirrors) {
          const url = new URL(m);
          out.push({ url, tls: await this.tlsFor(url.host, await this.isSecure(url.host)), mirror: true });
        }
      }
      out.push({ url: new URL(DEFAULT_V2_REGISTRY), tls: await this.tlsFor('registry-1.docker.io', true), mirror: false });
      return out;
    }
    const secure = await this.isSecure(domain);
    const tls = await this.tlsFor(domain, secure);
    const out: Endpoint[] = [{ url: new URL(`https://${domain}/`), tls, mirror: false }];
    if (!secure) out.push({ url: new URL(`http://${domain}/`), tls, mirror: false });
    return out;
  }
}
