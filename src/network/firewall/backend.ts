/**
 * The firewall as a backend Traffic drives: nftables (berth's tables, kept equal to the
 * model), or none (--firewall=false, dockerd's --iptables=false: no rules at all, the
 * daemon's relay serves published ports, and the user's bridge settings are left to
 * the user). The daemon chooses one, once, at start (`firewallBackend`).
 */
import type { KernelNft } from '../../kernel/port.js';
import type { SysctlSetting } from '../../kernel/sysctl.js';
import type { RelayScope } from '../ports/index.js';
import { Firewall, removeFirewallTables, type ModelSource } from './index.js';
import type { FirewallModel, FwEndpoint, FwNetwork, FwPublication, FwUnderlay } from './model.js';
import { DATA_PATH_TABLE } from './data-path.js';
import { networkSysctls, releasedNetworkSysctls } from './requirements.js';

export interface FirewallBackend {
  /** Whether packets are filtered and translated by rules (false: the relay serves every published port). */
  readonly enforcing: boolean;
  /**
   * What the daemon's host-port sockets must relay themselves (ports/serving.ts): 'kernel'
   * only what the kernel cannot, 'loopback' also 127.0.0.1 TCP (--userland-proxy), 'all'
   * everything (no rules to DNAT with).
   */
  readonly relayScope: RelayScope;
  /** At daemon start, before the first sync: clear what another backend's run left. */
  start(): Promise<void>;
  /** Make the kernel equal to the whole model (start, and after drift). Idempotent. */
  sync(model: FirewallModel): Promise<void>;
  /** The settings a network's bridge needs (or must lose) under this backend. */
  bridgeSysctls(net: FwNetwork): SysctlSetting[];
  addNetwork(net: FwNetwork, after: ModelSource): Promise<void>;
  removeNetwork(net: FwNetwork, after: ModelSource): Promise<void>;
  addEndpoint(ep: FwEndpoint, net: FwNetwork, after: ModelSource): Promise<void>;
  removeEndpoint(ep: FwEndpoint, net: FwNetwork, after: ModelSource): Promise<void>;
  addPublications(pubs: readonly FwPublication[], after: ModelSource): Promise<void>;
  removePublications(pubs: readonly FwPublication[], after: ModelSource): Promise<void>;
  /** The swarm's VXLAN guard went from `from` to `to` (undefined: outside a swarm). */
  changeUnderlay(from: FwUnderlay | undefined, to: FwUnderlay | undefined, after: ModelSource): Promise<void>;
  /** Resolves once every change queued so far is applied (or failed). */
  idle(): Promise<void>;
}

/** The backend `--firewall` asks for; `userlandProxy` is --userland-proxy. */
export function firewallBackend(opts: { enabled: boolean; userlandProxy: boolean; nft: KernelNft; log: (m: string) => void }): FirewallBackend {
  return opts.enabled ? nftablesBackend(new Firewall({ nft: opts.nft, log: opts.log }), opts.userlandProxy) : noFirewall(opts.nft);
}

function nftablesBackend(fw: Firewall, userlandProxy: boolean): FirewallBackend {
  return {
    enforcing: true,
    relayScope: userlandProxy ? 'loopback' : 'kernel',
    start: async () => undefined,
    sync: async (model) => fw.sync(model),
    bridgeSysctls: networkSysctls,
    addNetwork: async (net, after) => void (await fw.addNetwork(net, after)),
    removeNetwork: async (net, after) => void (await fw.removeNetwork(net, after)),
    addEndpoint: async (ep, net, after) => void (await fw.addEndpoint(ep, net, after)),
    removeEndpoint: async (ep, net, after) => void (await fw.removeEndpoint(ep, net, after)),
    addPublications: async (pubs, after) => void (await fw.addPublications(pubs, after)),
    removePublications: async (pubs, after) => void (await fw.removePublications(pubs, after)),
    changeUnderlay: async (from, to, after) => void (await fw.changeUnderlay(from, to, after)),
    idle: async () => fw.idle(),
  };
}

const nothing = async (): Promise<void> => undefined;

/**
 * --firewall=false. route_localnet without berth's guard chain would let containers reach
 * the host's loopback: it goes off. A data path's namespace is born closed (its guard
 * with no node): with no firewall it is opened, as the host's VXLAN is.
 */
const noFirewall = (nft: KernelNft): FirewallBackend => ({
  enforcing: false,
  relayScope: 'all',
  // Rules a run with the firewall on left behind would outlive their objects.
  start: async () => removeFirewallTables(nft),
  sync: async (model) => openDataPath(nft, model.underlay).catch(() => undefined),
  bridgeSysctls: releasedNetworkSysctls,
  addNetwork: nothing,
  removeNetwork: nothing,
  addEndpoint: nothing,
  removeEndpoint: nothing,
  addPublications: nothing,
  removePublications: nothing,
  changeUnderlay: async (_from, to) => openDataPath(nft, to),
  idle: nothing,
});

async function openDataPath(nft: KernelNft, u: FwUnderlay | undefined): Promise<void> {
  if (u?.netns !== undefined) await nft.applyIn(u.netns.path, `add table inet ${DATA_PATH_TABLE}\ndelete table inet ${DATA_PATH_TABLE}\n`);
}
