/** The ipvlan driver's options, validated once into a typed configuration. Pure. */
import { invalid } from '../../../errors.js';
import type { NetworkRecord } from '../../model.js';
import { parseParent, type ParentRef, type ParentUse } from '../sublink/parent.js';

export const IPVLAN_MODES = ['l2', 'l3', 'l3s'] as const;
export const IPVLAN_FLAGS = ['bridge', 'private', 'vepa'] as const;
export type IpvlanMode = (typeof IPVLAN_MODES)[number];
export type IpvlanFlag = (typeof IPVLAN_FLAGS)[number];

export interface IpvlanConfig {
  networkId: string;
  networkName: string;
  /** `-o parent`; without it the network's own dummy-like link. */
  parent: ParentRef;
  /** No way out: `--internal`, or no parent. Containers get no default route (Docker's behaviour). */
  internal: boolean;
  /** `-o ipvlan_mode`: l2 (default) switches by MAC; l3 and l3s route, so several subnets share one network. */
  mode: IpvlanMode;
  /** `-o ipvlan_flag`, bridge by default. */
  flag: IpvlanFlag;
}

export function parseIpvlanConfig(net: NetworkRecord): IpvlanConfig {
  const mode = net.options['ipvlan_mode'] || 'l2';
  if (!(IPVLAN_MODES as readonly string[]).includes(mode)) {
    throw invalid(`requested ipvlan mode '${mode}' is not valid, 'l2' mode is the ipvlan driver default`);
  }
  const flag = net.options['ipvlan_flag'] || 'bridge';
  if (!(IPVLAN_FLAGS as readonly string[]).includes(flag)) {
    throw invalid(`requested ipvlan flag '${flag}' is not valid, 'bridge' is the ipvlan driver default`);
  }
  const parent = parseParent(net, 'ipvlan');
  return {
    networkId: net.id,
    networkName: net.name,
    parent,
    internal: net.internal || parent.own,
    mode: mode as IpvlanMode,
    flag: flag as IpvlanFlag,
  };
}

export function ipvlanParentUse(c: IpvlanConfig): ParentUse {
  return { networkId: c.networkId, networkName: c.networkName, driver: 'ipvlan', parent: c.parent.name, passthru: false };
}
