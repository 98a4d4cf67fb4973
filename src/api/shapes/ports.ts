/** NetworkSettings.Ports: every exposed or bound port, with its host bindings while published. */
import type { ContainerEngine } from '../../engine/containers/engine.js';
import type { ContainerRecord } from '../../engine/containers/model.js';
import type { NetworkController } from '../../network/controller.js';
import { expandMappings, type PortSpec } from '../../network/ports/index.js';

export type PortsShape = Record<string, { HostIp: string; HostPort: string }[] | null>;

export function portsShape(exposed: readonly string[], mappings: readonly PortSpec[], hasIpv6: boolean): PortsShape {
  const out: PortsShape = {};
  for (const key of exposed) out[key] = null;
  for (const p of expandMappings(mappings)) {
    const key = `${p.containerPort}/${p.proto}`;
    const list = out[key] ?? [];
    const ips = p.hostIp !== '' ? [p.hostIp] : hasIpv6 ? ['0.0.0.0', '::'] : ['0.0.0.0'];
    for (const ip of ips) list.push({ HostIp: ip, HostPort: String(p.hostPort) });
    out[key] = list;
  }
  return out;
}

/**
 * A container's ports as Docker reports them: only while it runs, from its endpoints on a
 * driver that reports ports (the bridge); releasing the network at exit clears them.
 */
export function reportedPorts(c: ContainerRecord, networks: NetworkController, engine: ContainerEngine): PortsShape {
  if (c.state.status !== 'running') return {};
  const endpoints = networks.endpointsOf(c.id);
  if (!endpoints.some((e) => networks.find(e.networkId).capabilities.reportsPorts)) return {};
  return portsShape(engine.facts.exposedPorts(c), networks.publishedPorts(c.id), endpoints.some((e) => e.ipv6));
}
