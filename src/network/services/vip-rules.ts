/**
 * A container namespace's virtual IPs as nftables data, rendered as `nft -f` scripts. Pure.
 *
 * In every local namespace on a network that carries services, berth's own table:
 *
 *   table ip berth_svc
 *     map vips     VIP -> goto that service's chain (one lookup per packet)
 *     chain output nat hook output: ip daddr vmap @vips
 *     chain svc_…  dnat to numgen random mod N map { 0 : ip0, … } (the port unchanged:
 *                  Docker's VIP forwards every port); no backend: a TCP reset or an
 *                  ICMP port unreachable, so a client fails at once instead of hanging.
 *
 * The nat hook sees only a flow's first packet: conntrack keeps the flow on the backend
 * chosen then. No SNAT: the backend sees the client's own address. A backend change is
 * that service's chain flushed and written again (its size, not the table's).
 */

export const VIP_TABLE = 'berth_svc';
const T = `ip ${VIP_TABLE}`;

/** One VIP in a namespace: which chain balances it over which backends. */
export interface VipEntry {
  /** Stable per (service, network): the chain's name. */
  chain: string;
  vip: string;
  /** Sorted backend addresses. */
  backends: readonly string[];
}

/** The chain of a service on a network (nft names: letters, digits, underscores). */
export function vipChain(serviceId: string, networkId: string): string {
  return `svc_${serviceId.replace(/[^A-Za-z0-9]/g, '')}_${networkId.replace(/[^A-Za-z0-9]/g, '').slice(0, 12)}`;
}

/** The rules of a service's chain. */
export function chainRules(backends: readonly string[]): string[] {
  if (backends.length === 0) return [];
  if (backends.length === 1) return [`dnat to ${backends[0]!}`];
  return [`dnat to numgen random mod ${backends.length} map { ${backends.map((b, i) => `${i} : ${b}`).join(', ')} }`];
}

/** The whole table, replacing whatever a namespace had (after a restart: nothing left over, nothing doubled); none at all when there is no VIP. */
export function vipTableScript(entries: readonly VipEntry[]): string {
  const lines = [`add table ${T}`, `delete table ${T}`];
  if (entries.length === 0) return lines.join('\n') + '\n';
  lines.push(`table ${T} {`);
  lines.push('\tmap vips {', '\t\ttype ipv4_addr : verdict');
  lines.push(`\t\telements = { ${entries.map((e) => `${e.vip} : goto ${e.chain}`).join(', ')} }`, '\t}');
  const idle = entries.filter((e) => e.backends.length === 0).map((e) => e.vip);
  lines.push('\tset idle {', '\t\ttype ipv4_addr', ...(idle.length > 0 ? [`\t\telements = { ${idle.join(', ')} }`] : []), '\t}');
  lines.push('\tchain output {', '\t\ttype nat hook output priority -100; policy accept;', '\t\tip daddr vmap @vips', '\t}');
  lines.push('\tchain refuse {', '\t\ttype filter hook output priority 0; policy accept;', '\t\tip daddr @idle meta l4proto tcp reject with tcp reset', '\t\tip daddr @idle reject', '\t}');
  for (const e of entries) lines.push(`\tchain ${e.chain} {`, ...chainRules(e.backends).map((r) => `\t\t${r}`), '\t}');
  lines.push('}');
  return lines.join('\n') + '\n';
}

/** The changes from `before` to `after` (keyed by chain), or '' when none: touches only the chains that changed. */
export function vipChangesScript(before: ReadonlyMap<string, VipEntry>, after: ReadonlyMap<string, VipEntry>): string {
  const lines: string[] = [];
  for (const [chain, old] of before) {
    if (after.has(chain)) continue;
    lines.push(`delete element ${T} vips { ${old.vip} }`, `delete chain ${T} ${chain}`);
    if (old.backends.length === 0) lines.push(`delete element ${T} idle { ${old.vip} }`);
  }
  for (const [chain, next] of after) {
    const old = before.get(chain);
    if (old && old.vip === next.vip && sameList(old.backends, next.backends)) continue;
    if (!old) lines.push(`add chain ${T} ${chain}`);
    else lines.push(`flush chain ${T} ${chain}`);
    for (const r of chainRules(next.backends)) lines.push(`add rule ${T} ${chain} ${r}`);
    if (old && old.vip !== next.vip) lines.push(`delete element ${T} vips { ${old.vip} }`);
    if (!old || old.vip !== next.vip) lines.push(`add element ${T} vips { ${next.vip} : goto ${chain} }`);
    const wasIdle = old !== undefined && old.backends.length === 0;
    const isIdle = next.backends.length === 0;
    if (wasIdle && (!isIdle || old.vip !== next.vip)) lines.push(`delete element ${T} idle { ${old.vip} }`);
    if (isIdle && (!wasIdle || old.vip !== next.vip)) lines.push(`add element ${T} idle { ${next.vip} }`);
  }
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
