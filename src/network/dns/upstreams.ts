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

/** An upstream nameserver of a container's resolver. */
export interface Upstream {
  address: string;
  /**
   * Asked from the daemon's own namespace instead of the container's (Docker's
   * HostLoopback): a loopback nameserver of the host's resolv.conf, such as
   * systemd-resolved's 127.0.0.53, listens there and nowhere a container can reach.
   */
  fromHost: boolean;
}

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}

/** Valid addresses in canonical form, without 127.0.0.11 (in a container, the resolver itself). */
function cleanOverride(list: readonly string[]): string[] {
  return list.flatMap((s) => {
    const ip = tryParseIp(s);
    const text = ip === undefined ? undefined : formatIp(ip);
    return text === undefined || text === RESOLVER_ADDRESS ? [] : [text];
  });
}

/**
 * The upstreams of one container: its own --dns, else the daemon's --dns, else the
 * host's nameservers. As in Docker, a --dns address (the daemon's stands for every
 * container's) is asked from the container's namespace, so `--dns 127.0.0.1` means a
 * server in the container; the host's loopback nameservers are asked from the daemon's
 * namespace, where they listen. The host's 127.0.0.11 is kept: in the daemon's
 * namespace it is not a berth resolver (berth inside a Docker container on a user
 * network, for one).
 */
export function chooseUpstreams(sources: { container: readonly string[]; daemon: readonly string[]; hostResolvConf: string }): Upstream[] {
  const inContainer = (address: string): Upstream => ({ address, fromHost: false });
  // --dns 127.0.0.11 alone still means "the embedded resolver": fall through to the next source.
  const container = cleanOverride(sources.container);
  if (container.length > 0) return container.map(inContainer);
  const daemon = cleanOverride(sources.daemon);
  if (daemon.length > 0) return daemon.map(inContainer);
  return nameserversOf(sources.hostResolvConf).map((address) => ({ address, fromHost: isLoopback(address) }));
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
