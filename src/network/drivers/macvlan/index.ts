/**
 * The macvlan driver: each container gets a macvlan link of the network's parent
 * interface, with a MAC of its own, and sits on the parent's LAN like another machine.
 * The host itself cannot reach its own macvlan children through the parent (the
 * kernel does not hand frames between a device and its macvlan links); a macvlan
 * "shim" link of the host on the same parent does.
 */
import { kernelFeatures, kernelLacks, type KernelFeatures } from '../../../kernel/features.js';
import type { NetworkRecord } from '../../model.js';
import type { DriverContext, DriverNetwork, NetworkDriver } from '../driver.js';
import { macvlanParentUse, parseMacvlanConfig, type MacvlanConfig } from './config.js';
import { planMacvlanJoin, planSublinkLeave } from './endpoint.js';
import {
  checkParentShare,
  ensureParent,
  parentUsersOf,
  releaseParent,
  removeOrphanParents,
  type ParentUsers,
} from './parent.js';

/** `features` is the kernel's answer; unit tests pass a fake one. */
export function macvlanDriver(ctx: DriverContext, features: () => Promise<KernelFeatures> = kernelFeatures): NetworkDriver {
  const users = parentUsersOf(ctx);
  return {
    name: 'macvlan',
    usesIpam: true,
    validate(net) {
      const c = parseMacvlanConfig(net);
      users.add(macvlanParentUse(c));
      return macvlanNetwork(net, c, users, features);
    },
    removeOrphans: () => removeOrphanParents('macvlan', users.parents()),
  };
}

function macvlanNetwork(
  net: NetworkRecord,
  c: MacvlanConfig,
  users: ParentUsers,
  features: () => Promise<KernelFeatures>,
): DriverNetwork {
  const use = macvlanParentUse(c);
  return {
    displayOptions: { ...net.options },
    // Only the network's own link is exclusively its; a host parent may serve several networks.
    kernelNames: c.parent.own ? [c.parent.name] : [],
    async ensure() {
      const kernel = await features();
      if (kernel.macvlan === false) {
        throw kernelLacks('macvlan', `cannot create macvlan network ${c.networkName}`);
      }
      users.add(use);
      checkParentShare(use, users.othersOn(use));
      await ensureParent(c.parent, 'macvlan', kernel);
    },
    async remove() {
      users.delete(c.networkId);
      await releaseParent(c.parent, users.othersOn(use).length > 0);
    },
    planJoin: (ep, sandbox) => planMacvlanJoin(c, ep, sandbox),
    planLeave: (ep) => planSublinkLeave(ep),
  };
}

export type { MacvlanConfig };
