/** NetworkSettings.Ports: every exposed or bound port, with its host bindings while published. */
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
