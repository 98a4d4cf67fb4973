/**
 * The ipvlan driver: each container gets an ipvlan link of the network's parent,
 * sharing the parent's MAC (for LANs and switches that allow one MAC per port). The
 * parent handling (host interface, 802.1Q sub-interface, own dummy-like link) is the
 * macvlan driver's. Kernels without ipvlan refuse the network before anything is made.
 */
import { kernelFeatures, kernelLacks, type KernelFeatures } from '../../../kernel/features.js';
import type { NetworkRecord } from '../../model.js';
import type { DriverContext, DriverNetwork, NetworkDriver } from '../driver.js';
import { planSublinkLeave } from '../macvlan/endpoint.js';
import {
  checkParentShare,
  ensureParent,
  parentUsersOf,
  releaseParent,
  removeOrphanParents,
  type ParentUsers,
} from '../macvlan/parent.js';
import { ipvlanParentUse, parseIpvlanConfig, type IpvlanConfig } from './config.js';
import { planIpvlanJoin } from './endpoint.js';

/** `features` is the kernel's answer; unit tests pass a fake one. */
export function ipvlanDriver(ctx: DriverContext, features: () => Promise<KernelFeatures> = kernelFeatures): NetworkDriver {
  const users = parentUsersOf(ctx);
  return {
    name: 'ipvlan',
    usesIpam: true,
    validate(net) {
      const c = parseIpvlanConfig(net);
      users.add(ipvlanParentUse(c));
      return ipvlanNetwork(net, c, users, features);
    },
    removeOrphans: () => removeOrphanParents('ipvlan', users.parents()),
  };
}

function ipvlanNetwork(
  net: NetworkRecord,
  c: IpvlanConfig,
  users: ParentUsers,
  features: () => Promise<KernelFeatures>,
): DriverNetwork {
  const use = ipvlanParentUse(c);
  return {
    displayOptions: { ...net.options },
    kernelNames: c.parent.own ? [c.parent.name] : [],
    async ensure() {
      const kernel = await features();
      if (kernel.ipvlan === false) {
        throw kernelLacks('ipvlan', `cannot create ipvlan network ${c.networkName}`);
      }
      users.add(use);
      checkParentShare(use, users.othersOn(use));
      await ensureParent(c.parent, 'ipvlan', kernel);
    },
    async remove() {
      users.delete(c.networkId);
      await releaseParent(c.parent, users.othersOn(use).length > 0);
    },
    planJoin: (ep, sandbox) => planIpvlanJoin(c, ep, sandbox),
    planLeave: (ep) => planSublinkLeave(ep),
  };
}

export type { IpvlanConfig };
