/**
 * The ipvlan driver: each container gets an ipvlan link of the network's parent,
 * sharing the parent's MAC (for LANs and switches that allow one MAC per port). The
 * parent handling (host interface, 802.1Q sub-interface, own dummy-like link) is
 * shared with macvlan (../sublink). Kernels without ipvlan refuse the network before anything is made.
 */
import type { DriverContext, NetworkDriver } from '../driver.js';
import { sublinkDriver } from '../sublink/driver.js';
import { ipvlanParentUse, parseIpvlanConfig, type IpvlanConfig } from './config.js';
import { ipvlanRoute, planIpvlanJoin } from './endpoint.js';

export function ipvlanDriver(ctx: DriverContext): NetworkDriver {
  return sublinkDriver({ name: 'ipvlan', parse: parseIpvlanConfig, use: ipvlanParentUse, planJoin: planIpvlanJoin, route: ipvlanRoute }, ctx);
}

export type { IpvlanConfig };
