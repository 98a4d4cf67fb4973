/**
 * Kernel settings the ruleset relies on, as data for the network code to apply (sysctls
 * through src/kernel/sysctl.ts, link flags in the join's `ip -batch`).
 *
 *  - net.ipv4.ip_forward=1 (and net.ipv6.conf.all.forwarding=1 with IPv6 subnets): the
 *    daemon's namespace routes between bridges and the outside.
 *  - net.ipv4.conf.<bridge>.route_localnet=1: a connection to 127.0.0.1:<published> is
 *    DNATed to the container and leaves by the bridge with source 127.0.0.1 (then
 *    masqueraded); without it the kernel refuses the route. The `guard` chain drops
 *    packets from containers to 127.0.0.0/8, which route_localnet would otherwise let in.
 *  - net.bridge.bridge-nf-call-iptables=0 and -ip6tables=0 (unless --br-netfilter): with
 *    br_netfilter active, every frame between two containers of one bridge also
 *    traverses the inet hooks and conntrack, which costs about a fifth of the bridge's
 *    throughput. Nothing in the ruleset needs it: ICC off is enforced in the bridge
 *    table, everything else concerns routed packets. The setting is per namespace.
 *  - hairpin on each bridge port: when br_netfilter is active (on this machine it is built
 *    in, bridge-nf-call-iptables=1 by default), a DNATed packet whose new destination is
 *    on the bridge it came from is bridged, not routed, so a container reaching its own
 *    published port needs the frame sent back out of its own port.
 */
import type { SysctlSetting } from '../../kernel/sysctl.js';
import type { FwNetwork } from './model.js';

const hasFamily = (net: FwNetwork, family: 4 | 6): boolean => net.subnets.some((s) => s.includes(':') === (family === 6));

/**
 * Namespace-wide settings for these networks (apply at daemon start and network creation).
 * `brNetfilter` false (the default): bridged frames are not handed to the inet hooks.
 */
export function globalSysctls(networks: readonly FwNetwork[], opts: { brNetfilter: boolean }): SysctlSetting[] {
  const routed = networks.filter((n) => !n.internal);
  const out: SysctlSetting[] = [];
  if (routed.some((n) => hasFamily(n, 4))) out.push({ key: ['net', 'ipv4', 'ip_forward'], value: '1' });
  if (routed.some((n) => hasFamily(n, 6))) out.push({ key: ['net', 'ipv6', 'conf', 'all', 'forwarding'], value: '1' });
  if (!opts.brNetfilter && networks.length > 0) {
    // Present only while br_netfilter is loaded; without it there is nothing to switch off.
    for (const family of ['iptables', 'ip6tables']) out.push({ key: ['net', 'bridge', `bridge-nf-call-${family}`], value: '0', optional: true });
  }
  return out;
}

/** Per-bridge settings (apply once the bridge exists). */
export function networkSysctls(net: FwNetwork): SysctlSetting[] {
  if (net.internal || !hasFamily(net, 4)) return [];
  return [{ key: ['net', 'ipv4', 'conf', net.bridge, 'route_localnet'], value: '1' }];
}

/**
 * networkSysctls undone: for a user's bridge whose network goes, and for every bridge
 * when the firewall is off (route_localnet without the guard chain would let a
 * container reach the host's loopback). A bridge already gone is skipped.
 */
export function releasedNetworkSysctls(net: FwNetwork): SysctlSetting[] {
  return networkSysctls(net).map((s) => ({ ...s, value: '0', optional: true }));
}

/** `ip -batch` lines for a bridge port after it is enslaved (endpoint join). */
export function portLinkCommands(hostIfName: string): string[] {
  return [`link set dev ${hostIfName} type bridge_slave hairpin on`];
}
