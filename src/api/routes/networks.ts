/** /networks routes: Docker JSON in, typed requests to the controller, Docker JSON out. */
import { forbidden, invalid, notFound } from '../../errors.js';
import type { NetworkController } from '../../network/controller.js';
import { parseNetworkFilters } from '../../network/filters.js';
import type { CreateNetworkRequest, SubnetRequest } from '../../network/model.js';
import type { Router } from '../router.js';
import { networkShape, type NetworkContainerShape } from '../shapes/network.js';
import { asObject, field, objectField, objectList, optBool, optString, parseFilters, stringMap } from '../wire.js';
import { parsePruneFilters } from './prune-filters.js';
import { parseEndpointConfig } from './container-create.js';
import type { EndpointConfig } from '../../engine/containers/model.js';

export interface NetworkRoutesDeps {
  networks: NetworkController;
  /** The containers attached to a network, as inspect lists them. */
  containersOf(networkId: string): Record<string, NetworkContainerShape>;
  connect(container: string, network: string, cfg: EndpointConfig): Promise<void>;
  disconnect(container: string, network: string, force: boolean): Promise<void>;
}

export function networkRoutes(router: Router, deps: NetworkRoutesDeps): void {
  const { networks } = deps;
  router
    .add('GET', '/networks', async (req) => {
      const filters = parseNetworkFilters(parseFilters(req.query.get('filters')));
      return { status: 200, body: networks.list(filters).map((n) => networkShape(n, deps.containersOf(n.record.id))) };
    })
    .add('GET', '/networks/{id}', async (req) => {
      const scope = req.query.get('scope');
      const net = networks.findVisible(req.params.id!);
      // ?scope= looks only among the networks of that scope (local, swarm), as dockerd's lookup.
      if (scope && scope !== net.capabilities.scope) throw notFound(`network ${req.params.id} not found`);
      return { status: 200, body: networkShape(net, deps.containersOf(net.record.id)) };
    })
    .add('POST', '/networks/create', async (req) => {
      const net = await networks.create(parseCreate(await req.json()));
      return { status: 201, body: { Id: net.record.id, Warning: '' } };
    })
    .add('DELETE', '/networks/{id}', async (req) => {
      await networks.remove(req.params.id!);
      return { status: 204 };
    })
    .add('POST', '/networks/{id}/connect', async (req) => {
      const o = asObject(await req.json(), 'network connect');
      const container = optString(o, 'Container') ?? '';
      await deps.connect(container, req.params.id!, parseEndpointConfig(objectField(o, 'EndpointConfig')));
      return { status: 200 };
    })
    .add('POST', '/networks/{id}/disconnect', async (req) => {
      const o = asObject(await req.json(), 'network disconnect');
      await deps.disconnect(optString(o, 'Container') ?? '', req.params.id!, optBool(o, 'Force') ?? false);
      return { status: 200 };
    })
    .add('POST', '/networks/prune', async (req) => {
      const keep = parsePruneFilters(parseFilters(req.query.get('filters')));
      const removed = await networks.prune(keep);
      // null when none, as dockerd's nil slice
      return { status: 200, body: { NetworksDeleted: removed.length > 0 ? removed : null } };
    });
}

/** Docker's NetworkCreateRequest into a typed request. */
export function parseCreate(body: unknown): CreateNetworkRequest {
  const o = asObject(body, 'network create');
  const name = optString(o, 'Name') ?? '';
  if (name.trim() === '') throw invalid('network name must not be empty');
  if (/[\x00-\x1f\x7f]/.test(name) || name.length > 255) throw invalid(`invalid network name "${name.slice(0, 64)}"`);
  if (optBool(o, 'ConfigOnly') || optString(objectField(o, 'ConfigFrom'), 'Network')) {
    throw invalid('config-only networks are not supported');
  }
  if (optBool(o, 'EnableIPv4') === false) throw invalid('IPv4 cannot be disabled on a berth network');
  const scope = optString(o, 'Scope');
  if (scope !== undefined && scope !== '' && scope !== 'local') throw invalid(`scope ${scope} is not supported`);
  if (optBool(o, 'Ingress')) throw forbidden('ingress networks are only available in swarm mode');
  const ipam = objectField(o, 'IPAM');
  const subnets: SubnetRequest[] = objectList(ipam, 'Config').map((c) => {
    const s: SubnetRequest = { auxAddresses: stringMap(c, 'AuxiliaryAddresses') };
    const subnet = optString(c, 'Subnet');
    const ipRange = optString(c, 'IPRange');
    const gateway = optString(c, 'Gateway');
    if (subnet) s.subnet = subnet;
    if (ipRange) s.ipRange = ipRange;
    if (gateway) s.gateway = gateway;
    return s;
  });
  return {
    name,
    driver: optString(o, 'Driver') || 'bridge',
    internal: optBool(o, 'Internal') ?? false,
    attachable: optBool(o, 'Attachable') ?? false,
    ingress: false,
    enableIPv6: optBool(o, 'EnableIPv6') ?? false,
    ipamDriver: optString(ipam, 'Driver') || 'default',
    ipamOptions: field(ipam, 'Options') === undefined || field(ipam, 'Options') === null ? null : stringMap(ipam, 'Options'),
    subnets,
    options: stringMap(o, 'Options'),
    labels: stringMap(o, 'Labels'),
  };
}
