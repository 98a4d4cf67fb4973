/** The bridge driver: one Linux bridge per network, the gateways as its addresses. */
import { conflict } from '../../../errors.js';
import { kernelSays } from '../../../kernel/exec.js';
import { bridgeCommands } from '../../../kernel/links.js';
import { releasedNetworkSysctls, type FwNetwork } from '../../firewall/index.js';
import type { NetworkRecord } from '../../model.js';
import { LOCAL_NETWORK, type DriverContext, type DriverNetwork, type NetworkDriver } from '../driver.js';
import { bridgeDefaultRoute, planBridgeJoin, planBridgeLeave } from './endpoint.js';
import { displayOptions, parseBridgeConfig, type BridgeConfig } from './config.js';

export function bridgeDriver(ctx: DriverContext): NetworkDriver {
  return {
    name: 'bridge',
    capabilities: { ...LOCAL_NETWORK, reportsPorts: true },
    validate: (net) => bridgeNetwork(net, parseBridgeConfig(net, ctx), ctx),
    async removeOrphans(live, others) {
      const wanted = new Set(live.flatMap((n) => n.kernelNames));
      const orphans = (await ctx.kernel.links.list()).filter((l) => l.kind === 'bridge' && l.ownedByBerth && !wanted.has(l.name) && !others(l.name));
      await Promise.all(orphans.map((l) => ctx.kernel.links.delete(l.name)));
    },
  };
}

function bridgeNetwork(net: NetworkRecord, c: BridgeConfig, ctx: DriverContext): DriverNetwork {
  /**
   * Whether berth made the bridge, so may delete it: learnt by ensure() (it made the
   * link, or found berth's ifalias on it); a user's bridge (-b, or named with -o) is
   * only lent its gateway addresses, as in Docker.
   */
  let berthMade: boolean | undefined;
  const { links, sysctls } = ctx.kernel;
  /** Make the bridge exist, up, with its gateways and MTU (kernel/links.ts bridgeCommands). */
  const ensureBridge = async (spec: Parameters<typeof bridgeCommands>[0], existing?: Parameters<typeof bridgeCommands>[1]): Promise<void> => {
    const cmds = bridgeCommands(spec, existing);
    if (cmds.length > 0) await links.batch(cmds);
  };
  const firewall: FwNetwork = {
    id: net.id,
    bridge: c.bridgeName,
    subnets: net.ipam.pools.map((p) => p.subnet),
    internal: net.internal,
    icc: c.enableIcc,
    masquerade: c.enableMasquerade,
  };
  return {
    displayOptions: displayOptions(net, c),
    kernelNames: [c.bridgeName],
    firewall,
    hostBindingIpv4: c.hostBindingIpv4,
    async ensure(fresh) {
      const spec = { name: c.bridgeName, mtu: c.mtu, addresses: c.gateways };
      if (fresh && !c.external) {
        // One spawn when the name is free; the batch stops at `link add` when it is not.
        try {
          await ensureBridge(spec);
          berthMade = true;
          return;
        } catch (e: unknown) {
          if (!kernelSays(e, 'exists')) throw e;
        }
      }
      const existing = await links.get(c.bridgeName);
      if (existing && existing.kind !== 'bridge') {
        berthMade = false;
        throw conflict(`cannot use ${c.bridgeName} as a bridge: a ${existing.kind ?? 'non-bridge'} link has that name`);
      }
      await ensureBridge(spec, existing);
      berthMade = existing?.ownedByBerth ?? true;
    },
    async remove() {
      if (berthMade ?? (await links.get(c.bridgeName))?.ownedByBerth) await links.retire(c.bridgeName, (e) => ctx.log(`deleting the bridge of network ${net.name}: ${String(e)}`));
      // A user network lent its gateway to the user's bridge; the default one took the -b bridge's own address.
      else if (!c.isDefault) {
        await links.removeAddresses(c.bridgeName, c.gateways);
        await sysctls.ensure(releasedNetworkSysctls(firewall));
      }
    },
    planJoin: (ep) => planBridgeJoin(c, ep, process.pid),
    defaultRoute: bridgeDefaultRoute,
    planLeave: (ep) => planBridgeLeave(ep),
    // The sandbox step makes the veth, the host step enslaves it: only then is it wired.
    hostSideWired: (link) => link.master === c.bridgeName && link.up,
  };
}

export type { BridgeConfig };
