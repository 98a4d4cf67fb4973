/** What the network model says of this host, as `berth topology` joins it to the kernel's view. Plain data. */
import type { PortSpec } from './ports/index.js';
import type { RemoteEndpoint } from './shared.js';

export interface TopologyModel {
  /** `directRouted`: an overlay routed directly between hosts of one segment (its links at the underlay's MTU). */
  networks: { id: string; name: string; driver: string; scope: 'local' | 'swarm'; links: string[]; subnets: string[]; gateways: string[]; ipv6: boolean; directRouted?: true }[];
  endpoints: { containerId: string; name: string; networkId: string; ifName: string | undefined; hostIfName: string | undefined; ipv4: string | undefined; mac: string | undefined }[];
  /** Each container with endpoints, and its namespace's file. */
  sandboxes: { containerId: string; path: string }[];
  published: { containerId: string; port: PortSpec }[];
  /** Other hosts' endpoints on shared networks (what the VXLAN links' tables hold). */
  remote: RemoteEndpoint[];
  /** The address pools local networks take subnets from. */
  pools: string[];
  /** In a swarm: the MTU of the underlay link the VXLAN tunnels ride on. */
  underlayMtu: number | undefined;
  /** In a swarm: that link's name (direct routing's filters are on it). */
  underlayLink?: string | undefined;
  /**
   * In a swarm whose VXLAN socket lives in a namespace of its own (--data-path-addr):
   * that namespace's file, the address it sends from, and the nodes its guard lets in.
   */
  dataPath?: { netns: string; addr: string; members: string[] } | undefined;
}
