/**
 * The overlay driver's options, validated once: the VXLAN network identifier the cluster
 * gave the network (com.docker.network.driver.overlay.vxlanid_list, as Docker shows it),
 * `encrypted`, and the MTU (the underlay's less VXLAN's 50 bytes, unless set).
 */
import { invalid } from '../../../errors.js';
import type { NetworkRecord } from '../../model.js';
import { parseMtuOption } from '../options.js';

export const VNI_OPTION = 'com.docker.network.driver.overlay.vxlanid_list';
export const MTU_OPTION = 'com.docker.network.driver.mtu';
/** VXLAN's own bytes: outer Ethernet 14, IPv4 20, UDP 8, VXLAN 8. */
export const VXLAN_OVERHEAD = 50;
/** Docker starts at 4096: VNIs below overlap 802.1Q IDs. */
export const FIRST_VNI = 4096;
export const MAX_VNI = (1 << 24) - 1;

export interface OverlayConfig {
  vni: number;
  encrypted: boolean;
  /** Set by -o com.docker.network.driver.mtu; otherwise the underlay's less the overhead. */
  mtu: number | undefined;
  /** The kernel's names of the network's bridge and VXLAN link on each host. */
  bridge: string;
  vxlan: string;
}

export function parseVni(value: string | undefined): number {
  const first = (value ?? '').split(',')[0] ?? '';
  const vni = Number(first);
  if (!/^\d+$/.test(first) || vni < 1 || vni > MAX_VNI) throw invalid(`invalid ${VNI_OPTION} value "${value ?? ''}": a VXLAN ID is 1 to ${MAX_VNI}`);
  return vni;
}

export function parseOverlayConfig(net: NetworkRecord): OverlayConfig {
  const vni = parseVni(net.options[VNI_OPTION]);
  const hex = vni.toString(16).padStart(6, '0');
  return {
    vni,
    encrypted: 'encrypted' in net.options,
    mtu: net.options[MTU_OPTION] === undefined ? undefined : parseMtuOption(MTU_OPTION, net.options[MTU_OPTION], 1450),
    bridge: `ov-${hex}`,
    vxlan: `vx-${hex}`,
  };
}
