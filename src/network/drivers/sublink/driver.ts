/**
 * What macvlan and ipvlan share: a network is a parent link, each endpoint a sub-link
 * of it sent into the container's sandbox. A kind says how to read its options, how it
 * uses the parent, and how one endpoint is wired; the rest (parent sharing rules, the
 * parent's lifecycle, orphan clean-up, the kernel feature check) is here, once.
 */
import { kernelLacks } from '../../../kernel/features.js';
import type { EndpointRecord, NetworkRecord } from '../../model.js';
import { LOCAL_NETWORK, type DriverContext, type DriverNetwork, type NetworkDriver, type WiringPlan } from '../driver.js';
import { defaultRouteCommands, planSublinkLeave, type DefaultRoute } from './sandbox.js';
import {
  checkParentShare,
  ensureParent,
  parentUsersOf,
  releaseParent,
  removeOrphanParents,
  type ParentRef,
  type ParentUse,
  type SublinkDriver,
} from './parent.js';

export interface SublinkKind<C extends { networkName: string; parent: ParentRef }> {
  name: SublinkDriver;
  /** Validate the network's options (pure; Docker's messages). */
  parse(net: NetworkRecord): C;
  use(c: C): ParentUse;
  planJoin(c: C, ep: EndpointRecord, sandbox: string): WiringPlan;
  /** Which default route an endpoint with the gateway role gets. */
  route(c: C): DefaultRoute;
}

export function sublinkDriver<C extends { networkName: string; parent: ParentRef }>(kind: SublinkKind<C>, ctx: DriverContext): NetworkDriver {
  const { links } = ctx.kernel;
  const users = parentUsersOf(ctx);
  return {
    name: kind.name,
    // The link lives in the sandbox only: nothing of an endpoint in the host to repair after a restart.
    capabilities: { ...LOCAL_NETWORK, hostSideLink: false },
    validate(net) {
      const c = kind.parse(net);
      const use = kind.use(c);
      users.add(use);
      const network: DriverNetwork = {
        displayOptions: { ...net.options },
        // Only the network's own link is exclusively its; a host parent may serve several networks.
        kernelNames: c.parent.own ? [c.parent.name] : [],
        // The kernel allows one passthru link per parent.
        ...(use.passthru && {
          oneEndpointOnly: `macvlan network ${c.networkName} is in passthru mode: its parent ${c.parent.name} serves one container at a time`,
        }),
        async ensure() {
          const kernel = await ctx.kernel.features();
          if (kernel[kind.name] === false) {
            throw kernelLacks(kind.name, `cannot create ${kind.name} network ${c.networkName}`);
          }
          users.add(use);
          checkParentShare(use, users.othersOn(use));
          await ensureParent(links, c.parent, kind.name, kernel);
        },
        async remove() {
          users.delete(use.networkId);
          await releaseParent(links, c.parent, users.othersOn(use).length > 0);
        },
        planJoin: (ep, sandbox) => kind.planJoin(c, ep, sandbox),
        defaultRoute: (ep) => defaultRouteCommands(ep, kind.route(c)),
        planLeave: (ep) => planSublinkLeave(ep),
      };
      return network;
    },
    removeOrphans: async () => removeOrphanParents(links, kind.name, users.parents()),
  };
}
