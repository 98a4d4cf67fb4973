/** How the network model is kept in the store: one typed collection per kind of record. */
import { Collection } from '../store/collection.js';
import { anyObject, arrayOf, bool, num, object, str, type Check } from '../store/check.js';
import type { FwUnderlay } from './firewall/model.js';
import type { EndpointRecord, NetworkRecord } from './model.js';
import type { PortSpec } from './ports/index.js';

const pool = object({ subnet: str, gateway: str, auxAddresses: anyObject, allocated: arrayOf(str) });
/** A network's IPAM options: null when its create request gave none (inspect shows null, as Docker). */
const ipamOptions: Check<Record<string, unknown> | null> = (v, p) => (v === null ? null : anyObject(v, p));

/** network/<id> */
export const NETWORKS = new Collection<NetworkRecord>({
  prefix: 'network/',
  version: 1,
  check: (v) =>
    object<NetworkRecord>({
      id: str,
      name: str,
      driver: str,
      created: str,
      internal: bool,
      attachable: bool,
      ingress: bool,
      enableIPv6: bool,
      ipam: object({ driver: str, options: ipamOptions, pools: arrayOf(pool) }),
      options: anyObject,
      labels: anyObject,
      predefined: bool,
    })(v, 'network'),
});

const address = object({ address: str, prefixLen: num, gateway: str });

/** endpoint/<id> */
export const ENDPOINTS = new Collection<EndpointRecord>({
  prefix: 'endpoint/',
  version: 1,
  check: (v) =>
    object<EndpointRecord>(
      { id: str, networkId: str, containerId: str, name: str, ifName: str, hostIfName: str, mac: str, ipv4: address, ipv6: address, aliases: arrayOf(str), gateway: bool },
      ['ifName', 'hostIfName', 'mac', 'ipv4', 'ipv6'],
    )(v, 'endpoint'),
});

/** sandbox/<container id>: the path of its namespace file (a container may run with no endpoint at all). */
export const SANDBOXES = new Collection<string>({ prefix: 'sandbox/', version: 1, check: (v) => str(v, 'sandbox') });

/** What is stored per container whose ports are published (ports/<container id>). */
export interface Publication {
  containerId: string;
  networkId: string;
  mappings: PortSpec[];
  ipv4?: string | undefined;
  ipv6?: string | undefined;
}

const range = object({ start: num, end: num });
const mapping: Check<PortSpec> = object<PortSpec>({ proto: str, hostIp: str, hostPorts: range, containerPorts: range });

/** ports/<container id> */
export const PUBLICATIONS = new Collection<Publication>({
  prefix: 'ports/',
  version: 1,
  check: (v) => object<Publication>({ containerId: str, networkId: str, mappings: arrayOf(mapping), ipv4: str, ipv6: str }, ['ipv4', 'ipv6'])(v, 'publication'),
});

/**
 * underlay/vxlan: the swarm's VXLAN guard as last known (firewall/model.ts), so the
 * ruleset a restarted daemon writes first still accepts the swarm's nodes, and only
 * them, before it reaches the cluster again. Absent outside a swarm.
 */
export const UNDERLAY = new Collection<FwUnderlay>({
  prefix: 'underlay/',
  version: 1,
  check: (v) => object<FwUnderlay>({ vxlanPorts: arrayOf(num), members: arrayOf(str), encryptedVnis: arrayOf(num) })(v, 'underlay'),
});
export const UNDERLAY_KEY = 'vxlan';
