/**
 * The contract between the controller and a network driver. A driver validates a
 * network's raw options once into its own typed configuration (private to the
 * driver) and hands back a handle whose methods only read that configuration.
 */
import type { NetworkRecord } from '../model.js';

/** What a driver gets from the daemon when it is built. */
export interface DriverContext {
  /** The kernel bridge for the default network (berth0, or -b). */
  defaultBridge: { name: string; external: boolean };
  /** MTU used when a network does not set com.docker.network.driver.mtu. */
  defaultMtu: number;
}

export interface NetworkDriver {
  readonly name: string;
  /**
   * Validate the network's options and return its handle. Pure: no kernel work.
   * Called at create (before anything is stored) and for every stored network at
   * start. Throws InvalidParameter with Docker's wording for bad options.
   */
  validate(net: NetworkRecord): DriverNetwork;
  /**
   * Called once at start with every network of this driver: remove kernel objects
   * this driver made that belong to none of them (crash leftovers). Optional.
   */
  removeOrphans?(live: readonly DriverNetwork[]): Promise<void>;
  /** Whether networks of this driver take IPAM subnets (bridge yes; host/null no). */
  readonly usesIpam: boolean;
}

export interface DriverNetwork {
  /** Options as inspect shows them: the user's plus the ones the driver derived. */
  readonly displayOptions: Record<string, string>;
  /** Kernel names this network owns (e.g. its bridge), for orphan detection. */
  readonly kernelNames: readonly string[];
  /** Make the kernel match the network. Idempotent: used by create and by reconcile. */
  ensure(): Promise<void>;
  /** Remove the network's kernel objects. Idempotent: already gone is success. */
  remove(): Promise<void>;
}
