/**
 * The overlay driver's options, validated once: the VXLAN network identifier the cluster
 * gave the network (com.docker.network.driver.overlay.vxlanid_list, as Docker shows it),
 * `encrypted`, the MTU (the underlay's less VXLAN's 50 bytes, unless set), and berth's
 * direct routing.
 */
import { invalid } from '../../../errors.js';
import type { NetworkRecord } from '../../model.js';
import { parseBoolOption, parseMtuOption } from '../options.js';

export const VNI_OPTION = 'com.docker.network.driver.overlay.vxlanid_list';
export const MTU_OPTION = 'com.docker.network.driver.mtu';
/** -o encrypted: present (any value) asks for IPsec, as in Docker. */
export const ENCRYPTED_OPTION = 'encrypted';
/**
 * berth's own option (Flannel's DirectRouting): packets to a host on this host's own
 * underlay subnet are routed there as they are, without VXLAN; hosts further away still
 * get VXLAN.
 */
export const DIRECT_ROUTING_OPTION = 'com.berth.network.driver.overlay.direct_routing';
/** VXLAN's own bytes: outer Ethernet 14, IPv4 20, UDP 8, VXLAN 8. */
export const VXLAN_OVERHEAD = 50;
/** Docker starts at 4096: VNIs below overlap 802.1Q IDs. */
export const FIRST_VNI = 4096;
export const MAX_VNI = (1 << 24) - 1;

export interface OverlayConfig {
  vni: number;
  encrypted: boolean;
  /**
   * The MTU of the network's links, set by -o com.docker.network.driver.mtu, which names
   * the underlay's MTU (as Docker reads it) so the links get that less the overhead;
   * otherwise the underlay's own less the overhead.
   */
  mtu: number | undefined;
  /** -o com.berth.network.driver.overlay.direct_routing=true */
  directRouting: boolean;
  /**
   * The kernel's names of the network's links on each host: the VXLAN link, and the
   * host's own link on the network (a macvlan of the VXLAN link, beside the containers').
   */
  vxlan: string;
  hostLink: string;
}

/** The VNIs of a vxlanid_list option, one per subnet, read as Docker reads them (its error for a value that is not a number). */
export function parseVniList(value: string): number[] {
  return value.split(',').map((v) => {
    if (!/^[+-]?\d+$/.test(v)) throw invalid(`invalid vxlan id value "${v}" passed`);
    return Number(v);
  });
}

/** Whether a VXLAN network identifier fits VXLAN's 24 bits. */
export function vniInRange(vni: number): boolean {
  return Number.isInteger(vni) && vni >= 0 && vni <= MAX_VNI;
}

export function parseVni(value: string | undefined): number {
  const vni = parseVniList(value ?? '')[0]!;
  if (!vniInRange(vni)) throw invalid(`invalid ${VNI_OPTION} value "${value ?? ''}": a VXLAN ID is 0 to ${MAX_VNI}`);
  return vni;
}

export function parseOverlayConfig(net: NetworkRecord): OverlayConfig {
  const vni = parseVni(net.options[VNI_OPTION]);
  const hex = vni.toString(16).padStart(6, '0');
  const encrypted = ENCRYPTED_OPTION in net.options;
  const directRouting = parseBoolOption(DIRECT_ROUTING_OPTION, net.options[DIRECT_ROUTING_OPTION], false);
  // Routed packets are plain IP on the underlay: nothing of IPsec's VXLAN policies would cover them.
  if (encrypted && directRouting) throw invalid(`${DIRECT_ROUTING_OPTION} cannot be used with encrypted: directly routed packets carry no VXLAN to encrypt`);
  return {
    vni,
    encrypted,
    directRouting,
    mtu: linkMtu(net.options[MTU_OPTION]),
    vxlan: `vx-${hex}`,
    hostLink: `ov-${hex}`,
  };
}

/** The links' MTU for -o com.docker.network.driver.mtu (the underlay's): VXLAN takes its 50 bytes, and a link needs IPv4's 68. */
function linkMtu(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const mtu = parseMtuOption(MTU_OPTION, value, 0) - VXLAN_OVERHEAD;
  if (mtu < 68) throw invalid(`invalid ${MTU_OPTION} value "${value}": the MTU must be an integer between ${68 + VXLAN_OVERHEAD} and 65535 (VXLAN takes ${VXLAN_OVERHEAD} bytes of it)`);
  return mtu;
}
