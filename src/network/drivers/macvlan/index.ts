/**
 * The macvlan driver: each container gets a macvlan link of the network's parent
 * interface, with a MAC of its own, and sits on the parent's LAN like another machine.
 * The host itself cannot reach its own macvlan children through the parent (the
 * kernel does not hand frames between a device and its macvlan links); a macvlan
 * "shim" link of the host on the same parent does.
 */
import type { DriverContext, NetworkDriver } from '../driver.js';
import { macvlanParentUse, parseMacvlanConfig, type MacvlanConfig } from './config.js';
import { macvlanRoute, planMacvlanJoin } from './endpoint.js';
import { sublinkDriver } from '../sublink/driver.js';

export function macvlanDriver(ctx: DriverContext): NetworkDriver {
  return sublinkDriver({ name: 'macvlan', parse: parseMacvlanConfig, use: macvlanParentUse, planJoin: planMacvlanJoin, route: macvlanRoute }, ctx);
}

export type { MacvlanConfig };
