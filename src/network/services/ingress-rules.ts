/**
 * The ingress routing mesh on a node as nftables data, rendered as `nft -f` scripts. Pure.
 *
 * In the node's own namespace, berth's table:
 *
 *   table ip berth_ingress
 *     map ports        proto . published port -> goto that port's chain
 *     chain prerouting nat prerouting: traffic to one of the node's own addresses (from
 *                      outside, and from containers, which reach the node by them too)
 *     chain output     nat output: the node itself
 *     chain ing_…      dnat to numgen random mod N map { 0 : task0 . target, … }: every
 *                      task of the service on the ingress network, cluster-wide
 *     set remote       the tasks on other nodes: traffic DNATed to one of them leaves
 *                      by the ingress bridge with the node's ingress address as source
 *                      (chain postrouting), so the reply comes back through this node;
 *                      a task on this node sees the client's own address.
 *
 * A replica change is that port's chain rewritten and the remote set's elements that
 * changed: the size of the change, not of the table.
 */

export const INGRESS_TABLE = 'berth_ingress';
const T = `ip ${INGRESS_TABLE}`;

export interface IngressBackend {
  ip: string;
  port: number;
}

/** One published port and where it leads. */
export interface IngressPort {
  proto: 'tcp' | 'udp';
  port: number;
  /** Sorted by address: every node derives the same order. */
  backends: readonly IngressBackend[];
}

/** What the node's mesh holds. */
export interface IngressModel {
  ports: readonly IngressPort[];
  /** The node's own endpoint on the ingress network: its host link and address (none: no remote task is reachable). */
  local: { link: string; address: string } | undefined;
  /** Tasks' addresses on other nodes. */
  remote: readonly string[];
}

export const ingressChain = (p: Pick<IngressPort, 'proto' | 'port'>): string => `ing_${p.proto}_${p.port}`;

/** The rules of a port's chain: none while it has no task (the held socket refuses). */
export function ingressRules(p: IngressPort): string[] {
  const b = p.backends;
  if (b.length === 0) return [];
  if (b.length === 1) return [`meta l4proto ${p.proto} dnat to ${b[0]!.ip}:${b[0]!.port}`];
  return [`meta l4proto ${p.proto} dnat to numgen random mod ${b.length} map { ${b.map((x, i) => `${i} : ${x.ip} . ${x.port}`).join(', ')} }`];
}

/** The whole table, replacing what the node had; none at all when nothing is published. */
export function ingressTableScript(m: IngressModel): string {
  const lines = [`add table ${T}`, `delete table ${T}`];
  if (m.ports.length === 0) return lines.join('\n') + '\n';
  const elements = (xs: readonly string[]): string[] => (xs.length > 0 ? [`\t\telements = { ${xs.join(', ')} }`] : []);
  lines.push(`table ${T} {`);
  lines.push('\tmap ports {', '\t\ttype inet_proto . inet_service : verdict', ...elements(m.ports.map((p) => `${p.proto} . ${p.port} : goto ${ingressChain(p)}`)), '\t}');
  lines.push('\tset remote {', '\t\ttype ipv4_addr', ...elements(m.remote), '\t}');
  for (const hook of ['prerouting', 'output']) {
    lines.push(`\tchain ${hook} {`, `\t\ttype nat hook ${hook} priority -100; policy accept;`, '\t\tfib daddr type local meta l4proto . th dport vmap @ports', '\t}');
  }
  lines.push('\tchain postrouting {', '\t\ttype nat hook postrouting priority 100; policy accept;');
  if (m.local) lines.push(`\t\toifname "${m.local.link}" ct status dnat ip daddr @remote snat to ${m.local.address}`);
  lines.push('\t}');
  for (const p of m.ports) lines.push(`\tchain ${ingressChain(p)} {`, ...ingressRules(p).map((r) => `\t\t${r}`), '\t}');
  lines.push('}');
  return lines.join('\n') + '\n';
}

/** The changes from `before` to `after`: the chains of ports that changed and the remote set's elements; '' when none. The whole table when the node's own endpoint changed. */
export function ingressChangesScript(before: IngressModel, after: IngressModel): string {
  if (before.ports.length === 0 || after.ports.length === 0 || JSON.stringify(before.local) !== JSON.stringify(after.local)) {
    return JSON.stringify(before) === JSON.stringify(after) ? '' : ingressTableScript(after);
  }
  const lines: string[] = [];
  const old = new Map(before.ports.map((p) => [ingressChain(p), p]));
  const next = new Map(after.ports.map((p) => [ingressChain(p), p]));
  for (const [chain, p] of old) if (!next.has(chain)) lines.push(`delete element ${T} ports { ${p.proto} . ${p.port} }`, `delete chain ${T} ${chain}`);
  for (const [chain, p] of next) {
    const was = old.get(chain);
    if (was && JSON.stringify(was.backends) === JSON.stringify(p.backends)) continue;
    lines.push(was ? `flush chain ${T} ${chain}` : `add chain ${T} ${chain}`);
    for (const r of ingressRules(p)) lines.push(`add rule ${T} ${chain} ${r}`);
    if (!was) lines.push(`add element ${T} ports { ${p.proto} . ${p.port} : goto ${chain} }`);
  }
  const gone = before.remote.filter((r) => !after.remote.includes(r));
  const came = after.remote.filter((r) => !before.remote.includes(r));
  if (came.length > 0) lines.push(`add element ${T} remote { ${came.join(', ')} }`);
  if (gone.length > 0) lines.push(`delete element ${T} remote { ${gone.join(', ')} }`);
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}
