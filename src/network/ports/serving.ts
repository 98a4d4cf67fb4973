/**
 * Who serves each host address of a published port. Pure.
 *
 * The kernel's DNAT (firewall/elements.ts) serves what it can. The sockets that hold the
 * host ports relay the rest to the container (kernel/port-relay.ts, berth's docker-proxy):
 *  - the IPv6 loopback: the kernel cannot DNAT from ::1 to another address (IPv6 has no
 *    route_localnet), so `dnat_local` lets ::1 through to the socket on ::1 or ::;
 *  - an IPv6 host address of an IPv4-only container: nftables cannot translate between
 *    families, so the socket relays to the container's IPv4 address, as docker-proxy does;
 *  - TCP to 127.0.0.0/8 with --userland-proxy;
 *  - everything with --firewall=false: berth writes no DNAT then, and the relay serves
 *    every published port, as docker-proxy does under dockerd's --iptables=false.
 * The relay has TCP and UDP but no SCTP (Node has no SCTP sockets): an SCTP mapping that
 * only the relay could serve is refused rather than reported as published.
 */
import { invalid } from '../../errors.js';
import { formatRange, isEphemeral, type PortSpec, type Proto } from './spec.js';

/** The container addresses a publication forwards to; a family without one is not published. */
export interface PublishTarget {
  ipv4?: string | undefined;
  ipv6?: string | undefined;
}

const isV6 = (ip: string): boolean => ip.includes(':');

/** Host IPs are canonical (ports/spec.ts parseHostIp), so ::1 has one spelling. */
export const isIpv6Loopback = (hostIp: string): boolean => hostIp === '::1';

/**
 * The host addresses a mapping binds: for '' each family the container has; else the
 * address itself, if some container address can be reached from it (an IPv6 one always
 * can: the relay carries it to IPv4).
 */
export function bindAddresses(hostIp: string, target: PublishTarget): string[] {
  if (hostIp === '') return [...(target.ipv4 ? ['0.0.0.0'] : []), ...(target.ipv6 ? ['::'] : [])];
  if (isV6(hostIp)) return target.ipv6 || target.ipv4 ? [hostIp] : [];
  return target.ipv4 ? [hostIp] : [];
}

/** The container address behind a bound host address: its own family, else (IPv6 host) IPv4. */
export function containerAddress(bound: string, target: PublishTarget): string | undefined {
  return isV6(bound) ? (target.ipv6 ?? target.ipv4) : target.ipv4;
}

/**
 * What the relay serves beyond the IPv6 sockets: 'kernel' (the default: nothing more),
 * 'loopback' (--userland-proxy: TCP to 127.0.0.0/8), 'all' (--firewall=false: no DNAT).
 */
export type RelayScope = 'kernel' | 'loopback' | 'all';

/**
 * Whether the socket bound on `bound` relays what reaches it. An IPv6 socket always does:
 * only ::1 (or everything, for an IPv4-only container) gets past the DNAT to it. An IPv4
 * one only for TCP with --userland-proxy (`dnat_local` then lets 127.0.0.0/8 TCP through),
 * and always without a firewall.
 */
export function relays(bound: string, proto: Proto, scope: RelayScope): boolean {
  if (proto === 'sctp') return false;
  return scope === 'all' || isV6(bound) || (scope === 'loopback' && proto === 'tcp');
}

/** A mapping as `-p` spells it: `[::1]:8090:80/tcp`, `[::1]::80/sctp`, `80/udp`. */
function asFlag(m: PortSpec): string {
  const ip = isV6(m.hostIp) ? `[${m.hostIp}]` : m.hostIp;
  const host = isEphemeral(m) ? '' : formatRange(m.hostPorts);
  const prefix = ip === '' && host === '' ? '' : `${ip === '' ? '' : `${ip}:`}${host}:`;
  return `${prefix}${formatRange(m.containerPorts)}/${m.proto}`;
}

/** Why nothing could serve this mapping for this container, or undefined when something does. */
export function unservable(m: PortSpec, target: PublishTarget, scope: RelayScope = 'kernel'): string | undefined {
  const what = `cannot publish ${asFlag(m)}`;
  if (m.hostIp !== '' && bindAddresses(m.hostIp, target).length === 0) {
    return `${what}: the container has no IPv${isV6(m.hostIp) ? 6 : 4} address`;
  }
  if (m.proto === 'sctp' && scope === 'all') return `${what}: berth writes no firewall rules (--firewall=false) and its relay has no SCTP`;
  if (m.proto !== 'sctp' || !isV6(m.hostIp)) return undefined;
  if (isIpv6Loopback(m.hostIp)) return `${what}: the kernel cannot forward from ::1 and berth's relay has no SCTP`;
  if (!target.ipv6) return `${what}: the container has no IPv6 address and berth's relay, which would carry it to IPv4, has no SCTP`;
  return undefined;
}

/** Refuses (InvalidParameter) a publication that nothing could serve; see unservable. */
export function checkServable(mappings: readonly PortSpec[], target: PublishTarget, scope: RelayScope = 'kernel'): void {
  for (const m of mappings) {
    const why = unservable(m, target, scope);
    if (why) throw invalid(why);
  }
}
