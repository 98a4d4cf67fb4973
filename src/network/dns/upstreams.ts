/**
 * Where a container's resolver forwards names it does not know, and the resolv.conf a
 * container on a user-defined network gets. Pure: callers read the host's file.
 */
import { formatIp, tryParseIp } from '../ipam/index.js';

/** The embedded resolver's own address: never an upstream (it would ask itself). */
export const RESOLVER_ADDRESS = '127.0.0.11';

/** The nameserver addresses of a resolv.conf text, in order (zones dropped). */
export function nameserversOf(resolvConf: string): string[] {
  const out: string[] = [];
  for (const line of resolvConf.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    const ip = m?.[1] === undefined ? undefined : tryParseIp(m[1].split('%')[0] ?? '');
    if (ip !== undefined) out.push(formatIp(ip));
  }
  return out;
}

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}

/**
 * The upstreams of one container: its own --dns, else the daemon's --dns, else the
 * host's nameservers without loopback ones (they mean the host's own namespace, which
 * a container cannot reach). Invalid entries and 127.0.0.11 itself are dropped.
 */
export function chooseUpstreams(sources: { container: readonly string[]; daemon: readonly string[]; hostResolvConf: string }): string[] {
  const clean = (list: readonly string[]): string[] =>
    list.flatMap((s) => {
      const ip = tryParseIp(s);
      const text = ip === undefined ? undefined : formatIp(ip);
      return text === undefined || text === RESOLVER_ADDRESS ? [] : [text];
    });
  // --dns 127.0.0.11 alone still means "the embedded resolver": fall through to the next source.
  const container = clean(sources.container);
  if (container.length > 0) return container;
  const daemon = clean(sources.daemon);
  if (daemon.length > 0) return daemon;
  return clean(nameserversOf(sources.hostResolvConf).filter((a) => !isLoopback(a)));
}

/** The search domains of a resolv.conf text (the last search/domain line wins). */
export function searchDomainsOf(resolvConf: string): string[] {
  let out: string[] = [];
  for (const line of resolvConf.split('\n')) {
    const m = /^\s*(search|domain)\s+(.+)$/.exec(line);
    if (m?.[2] !== undefined) out = m[2].trim().split(/\s+/);
  }
  return out;
}
