/**
 * The network model: plain data, persisted as it is (one store key per object).
 * Kernel state is derived from it; nothing here knows about the kernel or the store.
 */
import type { PoolState } from './ipam/index.js';

export type NetworkId = string & { readonly __brand: 'NetworkId' };

export interface NetworkRecord {
  id: NetworkId;
  name: string;
  driver: string;
  /** RFC 3339 with nanoseconds, as Docker shows it. */
  created: string;
  internal: boolean;
  attachable: boolean;
  ingress: boolean;
  enableIPv6: boolean;
  ipam: {
    driver: string;
    options: Record<string, string>;
    /** One per configured subnet, IPv4 ones first; the allocator's own state. */
    pools: PoolState[];
  };
  /** Driver options as the user gave them (inspect shows these, plus derived ones). */
  options: Record<string, string>;
  labels: Record<string, string>;
  /** bridge, host and none: made by the daemon, never removed by users. */
  predefined: boolean;
}

/** A validated create request, converted from Docker's JSON at the API edge. */
export interface CreateNetworkRequest {
  name: string;
  driver: string;
  internal: boolean;
  attachable: boolean;
  ingress: boolean;
  enableIPv6: boolean;
  ipamDriver: string;
  ipamOptions: Record<string, string>;
  subnets: SubnetRequest[];
  options: Record<string, string>;
  labels: Record<string, string>;
}

export interface SubnetRequest {
  subnet?: string;
  ipRange?: string;
  gateway?: string;
  auxAddresses: Record<string, string>;
}

export const PREDEFINED_NETWORKS = ['bridge', 'host', 'none'] as const;
