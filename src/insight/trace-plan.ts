/**
 * `berth trace FROM TO[:PORT][/tcp|udp|icmp]` resolved against berth's model: which
 * namespace sends, from and to which addresses, and the names the result is told in.
 * FROM is a container, `host`, or an address outside (then nothing is sent: the flow is
 * awaited); TO is a container, `host` (the host's address facing FROM), or an address.
 */
import { invalid, notFound } from '../errors.js';
import type { TraceProto, TraceSpec } from '../kernel/port.js';
import { tryParseIp } from '../network/ipam/index.js';
import type { TopologyModel } from '../network/topology-model.js';
import type { TraceNames } from './trace.js';

export interface TracePlan {
  spec: TraceSpec;
  /** The flow as the result names it: "web 172.18.0.2 → db 172.18.0.3:80/tcp". */
  flow: string;
  names: TraceNames;
}

type End = { kind: 'container'; id: string; name: string } | { kind: 'host' } | { kind: 'address'; ip: string; name?: string };

export function planTrace(from: string, to: string, model: TopologyModel, containerNames: ReadonlyMap<string, string>, waitMs = 5000): TracePlan {
  const target = /^(.*?)(?::(\d+))?(?:\/(tcp|udp|icmp))?$/.exec(to);
  if (!target || target[1] === '') throw invalid(`invalid destination "${to}": CONTAINER, host or ADDRESS, then :PORT and /tcp, /udp or /icmp if wanted`);
  const port = target[2] === undefined ? undefined : Number(target[2]);
  if (port !== undefined && (port < 1 || port > 65535)) throw invalid(`invalid port ${target[2]!}`);
  const proto: TraceProto = (target[3] as TraceProto | undefined) ?? (port === undefined ? 'icmp' : 'tcp');
  if (proto === 'icmp' && port !== undefined) throw invalid('icmp has no port');
  if (proto !== 'icmp' && port === undefined) throw invalid(`${proto} needs a port (${to}:PORT/${proto})`);
  const src = end(from, model, containerNames);
  const dst = end(target[1]!, model, containerNames);
  const ipsOf = (id: string): { networkId: string; ip: string }[] => model.endpoints.filter((e) => e.containerId === id && e.ipv4).map((e) => ({ networkId: e.networkId, ip: e.ipv4!.split('/')[0]! }));
  // Two containers speak over a network they share; otherwise each uses its first.
  const shared = src.kind === 'container' && dst.kind === 'container' ? ipsOf(src.id).find((a) => ipsOf(dst.id).some((b) => b.networkId === a.networkId))?.networkId : undefined;
  const pick = (id: string): string | undefined => (ipsOf(id).find((a) => a.networkId === shared) ?? ipsOf(id)[0])?.ip;
  const gatewayFacing = (id: string): string | undefined => {
    const first = ipsOf(id)[0];
    return model.networks.find((n) => n.id === first?.networkId)?.gateways.find((g) => !g.includes(':'));
  };
  const srcIp = src.kind === 'container' ? pick(src.id) : src.kind === 'address' ? src.ip : undefined;
  const dstIp = dst.kind === 'container' ? pick(dst.id) : dst.kind === 'address' ? dst.ip : src.kind === 'container' ? gatewayFacing(src.id) : '127.0.0.1';
  if (src.kind === 'container' && !srcIp) throw invalid(`container ${from} has no IPv4 address to send from`);
  if (!dstIp) throw invalid(`no IPv4 address for ${target[1]!}`);
  const sandbox = src.kind === 'container' ? model.sandboxes.find((s) => s.containerId === src.id)?.path : undefined;
  if (src.kind === 'address' && src.name) throw invalid(`${from} runs on another host: trace it there`);
  const spec: TraceSpec = { from: src.kind === 'address' ? 'none' : sandbox, src: srcIp, dst: dstIp, proto, port, waitMs, ...(model.dataPath ? { tunnelNetns: model.dataPath.netns } : {}) };
  const label = (e: End, ip: string | undefined): string => (e.kind === 'container' ? `${e.name} ${ip ?? ''}`.trim() : e.kind === 'host' ? `host${ip ? ` ${ip}` : ''}` : e.name ? `${e.name} ${e.ip}` : e.ip);
  const flow = `${label(src, srcIp)} → ${label(dst, dstIp)}${port ? `:${port}` : ''}/${proto}`;
  return { spec, flow, names: namesOf(model, containerNames) };
}

function end(word: string, model: TopologyModel, containerNames: ReadonlyMap<string, string>): End {
  if (word === 'host') return { kind: 'host' };
  if (tryParseIp(word)?.family === 4) return { kind: 'address', ip: word };
  const running = model.sandboxes.map((s) => s.containerId);
  const id = running.find((c) => containerNames.get(c) === word) ?? running.find((c) => c.startsWith(word));
  // A container on another host of the swarm, known by its endpoint on a shared network.
  const remote = id ? undefined : model.remote.find((r) => r.name === word || r.aliases.includes(word));
  if (remote) return { kind: 'address', ip: remote.ipv4, name: `${remote.name} (on ${remote.node})` };
  if (!id) throw notFound(`No such running container with a network: ${word}`);
  return { kind: 'container', id, name: containerNames.get(id) ?? id.slice(0, 12) };
}

export function namesOf(model: TopologyModel, containerNames: ReadonlyMap<string, string>): TraceNames {
  const netName = new Map(model.networks.map((n) => [n.id, n.name]));
  const networkOfLink = new Map<string, string>();
  for (const n of model.networks) for (const l of n.links) networkOfLink.set(l, n.name);
  for (const e of model.endpoints) if (e.hostIfName) networkOfLink.set(e.hostIfName, netName.get(e.networkId) ?? e.networkId);
  const containerOfIp = new Map(model.endpoints.filter((e) => e.ipv4).map((e) => [e.ipv4!.split('/')[0]!, containerNames.get(e.containerId) ?? e.name]));
  for (const r of model.remote) containerOfIp.set(r.ipv4, r.name);
  const publishedOn = new Map<string, string>();
  for (const { port } of model.published) {
    if (port.hostIp === '' || port.hostIp === '0.0.0.0' || port.hostIp === '::') continue;
    for (let p = port.hostPorts.start; p <= port.hostPorts.end; p++) publishedOn.set(`${port.proto}/${p}`, port.hostIp);
  }
  return { networkOfLink, containerOfIp, publishedOn };
}
