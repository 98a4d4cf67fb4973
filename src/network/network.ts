/** What the rest of the daemon sees of a network, how it is found, and the controller's configuration. */
import { invalid, notFound } from '../errors.js';
import type { Kernel } from '../kernel/port.js';
import type { EventSink } from '../events/types.js';
import type { DriverCapabilities, DriverContext, DriverNetwork } from './drivers/index.js';
import type { FirewallBackend } from './firewall/backend.js';
import type { PredefinedPool } from './ipam/index.js';
import type { NetworkRecord } from './model.js';
import type { SandboxPoolOptions } from './sandbox-pool.js';

export interface ControllerConfig {
  /** The kernel the networks live in (the real one; a fake in unit tests). */
  kernel: Kernel;
  /** Driver settings; the default bridge's comes from `bridge`. */
  driverContext: Omit<DriverContext, 'kernel' | 'defaultBridge'>;
  /** -b: an existing bridge for the default network ('none': no default network); undefined: berth0. */
  bridge: string | undefined;
  /** Pools new networks take subnets from (--default-address-pool, else Docker's). */
  addressPools: readonly PredefinedPool[];
  /** --bip: the default bridge's gateway and subnet, "172.17.0.1/16" (with -b: its IPv4 address). */
  bip: string | undefined;
  /** Folder of the containers' namespace files (<exec-root>/netns). */
  sandboxDir: string;
  /** Spare sandboxes kept ready (0: every start makes its own). */
  sandboxPool?: Omit<SandboxPoolOptions, 'dir' | 'log' | 'kernel'>;
  /** The firewall backend (nftables, or none with --firewall=false). */
  firewall: FirewallBackend;
  /** --br-netfilter: keep br_netfilter's call-out to the inet hooks (default: switched off). */
  brNetfilter: boolean;
  log: (msg: string) => void;
  /** Where network create, connect, disconnect and destroy events go. */
  events?: EventSink;
}

/** A network with its validated driver handle: what the rest of the daemon sees. */
export interface Network {
  readonly record: NetworkRecord;
  readonly driver: DriverNetwork;
  /** What its driver can do (drivers/driver.ts): asked instead of the driver's name. */
  readonly capabilities: DriverCapabilities;
}

/** By exact name, then unique ID prefix (after the full ID, which the caller looks up): Docker's order. */
export function findNetwork(all: readonly Network[], idOrName: string): Network {
  const byName = all.find((n) => n.record.name === idOrName);
  if (byName) return byName;
  const byPrefix = idOrName === '' ? [] : all.filter((n) => n.record.id.startsWith(idOrName));
  if (byPrefix.length === 1) return byPrefix[0]!;
  if (byPrefix.length > 1) {
    throw invalid(`network ${idOrName} is ambiguous (${byPrefix.length} matches found based on ID prefix)`);
  }
  throw notFound(`network ${idOrName} not found`);
}
