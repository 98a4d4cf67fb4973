/**
 * `berth trace`: what `nft monitor trace` recorded of a flow's first packet, read as a
 * path — each hook's chain and the rules it matched, where the packet was translated
 * (DNAT to which container, masquerade), which interface it left by — and, when it was
 * dropped, the rule that dropped it with berth's reason in the words of its model
 * (network X is internal, networks are isolated, ICC is off, a port published on
 * 127.0.0.1 only). Pure: the capture and the names come in, the verdict goes out.
 */

export interface TraceHop {
  /** "inet berth forward", "bridge berth icc_unicast". */
  chain: string;
  /** The packet as it entered this chain: interfaces and addresses. */
  packet: string;
  /** Rules that matched, with their verdicts ("jump publish", "accept", "drop"). */
  rules: { rule: string; verdict: string }[];
  /** The chain's policy when the packet fell through to it. */
  policy?: string;
}

export interface TraceResult {
  flow: string;
  /** What the sender saw: connected, refused, timeout, reply, sent, waited. */
  probe: string;
  /** The first packet's path; empty when no packet crossed the host's hooks (same host, same bridge without a trace there, or nothing sent). */
  hops: TraceHop[];
  /** Address changes along the way ("DNAT 192.0.2.1:8080 → web 172.18.0.2:80", "masquerade out of eth0"). */
  translated: string[];
  /** The interface the packet left the host by, when it did. */
  leftBy?: string;
  /** The flow went over VXLAN: the outer packet left by `oif` for the underlay address of `host`. */
  tunnel?: { oif: string; host: string };
  dropped?: { chain: string; rule: string; reason: string };
  /** Marked packets seen (a connection's later packets after its first). */
  packets: number;
  /** One sentence for a person. */
  summary: string;
}

/** What names the trace's addresses and links: berth's model. */
export interface TraceNames {
  /** Bridge (or other link) name → network name. */
  networkOfLink: ReadonlyMap<string, string>;
  /** Container address → container name. */
  containerOfIp: ReadonlyMap<string, string>;
  /** Host ports published on one address only: "tcp/8080" → that address. */
  publishedOn: ReadonlyMap<string, string>;
}

/** berth's rules' comments, and what each drop means. */
const REASONS: readonly [RegExp, (net: string) => string][] = [
  [/internal network: no way out/, (n) => `network ${n} is internal (--internal): nothing leaves it`],
  [/internal network: no way in/, (n) => `network ${n} is internal (--internal): nothing enters it from elsewhere`],
  [/other networks and outside: no direct access/, (n) => `networks are isolated: containers of other networks and machines outside reach network ${n} only through a published port`],
  [/ICC off/, (n) => `inter-container communication is off on network ${n} (com.docker.network.bridge.enable_icc=false)`],
  [/loopback from a container or another host/, () => 'only the host itself reaches its loopback (127.0.0.0/8)'],
  [/VXLAN from outside the swarm/, () => 'VXLAN is accepted only from the swarm\'s nodes'],
  [/in cleartext/, () => 'an encrypted network\'s VXLAN arrives only through IPsec'],
  [/direct-routed overlay/, (n) => `network ${n} is routed directly: it takes only its own subnet's packets from the hosts of its endpoints`],
];

interface Parsed {
  id: string;
  chain: string;
  kind: 'packet' | 'rule' | 'verdict' | 'policy';
  text: string;
}

function parse(line: string): Parsed | undefined {
  const m = /^trace id (\S+) (\S+) (\S+) (\S+) (packet:|rule|verdict|policy) ?(.*)$/.exec(line.trimEnd());
  if (!m) return undefined;
  return { id: m[1]!, chain: `${m[2]!} ${m[3]!} ${m[4]!}`, kind: m[5]!.replace(':', '') as Parsed['kind'], text: m[6]! };
}

const field = (text: string, name: string): string | undefined => new RegExp(`(?:^| )${name} "?([^" ]+)"?`).exec(text)?.[1];

export function explainTrace(
  flow: string,
  capture: { lines: readonly string[]; probe: string; marked?: number; sourceLines?: readonly string[]; tunnelLines?: readonly string[] },
  names: TraceNames,
): TraceResult {
  // The sender's own namespace first (a service's virtual IP is translated there), then the host's.
  const inSource = (capture.sourceLines ?? []).map(parse).filter((p): p is Parsed => p !== undefined).map((p) => ({ ...p, chain: `source: ${p.chain}`, id: `s${p.id}` }));
  const parsed = [...inSource, ...capture.lines.map(parse).filter((p): p is Parsed => p !== undefined)];
  // The kernel gives a frame a new trace ID when it goes up from the bridge to the IP
  // hooks, or into another namespace: the trace IDs of one packet share its source and
  // IPv4 identification (its destination may have been translated between).
  const packetKey = new Map<string, string>();
  for (const p of parsed) if (p.kind === 'packet' && !packetKey.has(p.id)) packetKey.set(p.id, `${field(p.text, 'ip saddr') ?? ''}#${field(p.text, 'ip id') ?? ''}`);
  const ids = [...new Set(parsed.map((p) => p.id))];
  const firstKey = packetKey.get(ids[0] ?? '');
  const firstIds = new Set(ids.filter((id, i) => i === 0 || (firstKey !== undefined && packetKey.get(id) === firstKey)));
  // Marked but seen by no other chain (frames within one bridge while it has no rule of berth's): the kernel's count.
  const packets = ids.length > 0 ? new Set(ids.map((id) => packetKey.get(id) ?? id)).size : (capture.marked ?? 0);
  const first = parsed.filter((p) => firstIds.has(p.id));
  const hops: TraceHop[] = [];
  const translated: string[] = [];
  let dropped: TraceResult['dropped'];
  let last: { daddr?: string; dport?: string; oif?: string; iif?: string } = {};
  let origin: { daddr: string; dport: string | undefined } | undefined;
  let dnatSeen = false;
  for (const p of first) {
    if (p.kind === 'packet') {
      const now = { daddr: field(p.text, 'ip daddr'), dport: field(p.text, '(?:tcp|udp) dport'), oif: field(p.text, 'oif'), iif: field(p.text, 'iif') };
      // The destination as sent, then the first other one seen: one DNAT (later lines may be the flow's other packets).
      origin ??= now.daddr ? { daddr: now.daddr, dport: now.dport } : undefined;
      if (!dnatSeen && origin && now.daddr && (now.daddr !== origin.daddr || now.dport !== origin.dport)) {
        dnatSeen = true;
        const who = names.containerOfIp.get(now.daddr);
        translated.push(`DNAT ${origin.daddr}${origin.dport ? `:${origin.dport}` : ''} → ${who ? `${who} ` : ''}${now.daddr}${now.dport ? `:${now.dport}` : ''}`);
      }
      last = { ...now, oif: now.oif ?? last.oif, iif: now.iif ?? last.iif };
      hops.push({ chain: p.chain, packet: packetSummary(p.text), rules: [] });
      continue;
    }
    const hop = hops[hops.length - 1] ?? { chain: p.chain, packet: '', rules: [] };
    if (hops.length === 0) hops.push(hop);
    if (p.kind === 'rule') {
      const m = /^(.*) \(verdict ([^)]+)\)$/.exec(p.text);
      const rule = m?.[1] ?? p.text;
      const verdict = m?.[2] ?? '';
      hop.rules.push({ rule, verdict });
      if (/\bmasquerade\b/.test(rule)) translated.push(`masquerade out of ${last.oif ?? 'the host'} (the source becomes that interface's address)`);
      const snat = /\bsnat to (\S+)/.exec(rule);
      if (snat) translated.push(`SNAT to ${snat[1]!} out of ${last.oif ?? 'the host'}`);
      if (verdict === 'drop' && !dropped) dropped = { chain: p.chain, rule, reason: reasonOf(rule, last, names) };
    } else if (p.kind === 'policy') {
      hop.policy = p.text;
      if (p.text.startsWith('drop') && !dropped) dropped = { chain: p.chain, rule: `policy ${p.text}`, reason: `the chain ${p.chain} drops what no rule accepts (its policy), and it is not berth's` };
    }
  }
  const leftBy = dropped ? undefined : last.oif;
  const tunnel = dropped ? undefined : tunnelOf(capture.tunnelLines ?? []);
  const result: TraceResult = { flow, probe: capture.probe, hops, translated, ...(leftBy ? { leftBy } : {}), ...(tunnel ? { tunnel } : {}), ...(dropped ? { dropped } : {}), packets, summary: '' };
  result.summary = summarize(result, names, flow, last.daddr);
  return result;
}

/** The first outer packet of the flow's VXLAN: where it left, for which host. */
function tunnelOf(lines: readonly string[]): TraceResult['tunnel'] {
  const outer = lines.map(parse).find((p) => p?.kind === 'packet');
  const oif = outer && field(outer.text, 'oif');
  const host = outer && field(outer.text, 'ip daddr');
  return oif && host ? { oif, host } : undefined;
}

function packetSummary(text: string): string {
  const parts = [['iif', field(text, 'iif')], ['oif', field(text, 'oif')], ['from', field(text, 'ip saddr')], ['to', field(text, 'ip daddr')], ['dport', field(text, '(?:tcp|udp) dport')]] as const;
  return parts.filter(([, v]) => v !== undefined).map(([k, v]) => `${k} ${v}`).join(' ');
}

function reasonOf(rule: string, last: { oif?: string; iif?: string }, names: TraceNames): string {
  const comment = /comment "([^"]*)"/.exec(rule)?.[1] ?? '';
  // A rule on the way in names the source's network (its bridge, or its container's bridge port); others the destination's.
  const link = /^iifname|no way out|ICC off/.test(rule) || (/iifname/.test(rule) && !/oifname/.test(rule)) ? last.iif : last.oif;
  const net = (link && names.networkOfLink.get(link)) ?? link ?? '?';
  for (const [re, say] of REASONS) if (re.test(comment)) return say(net);
  return comment ? `berth's rule: ${comment}` : 'a rule of another table';
}

/** `arrivedAt`: the destination the packet last had (after any DNAT). */
function summarize(r: TraceResult, names: TraceNames, flow: string, arrivedAt: string | undefined): string {
  if (r.dropped) return `dropped in ${r.dropped.chain}: ${r.dropped.reason}.`;
  if (r.probe === 'ENETUNREACH' || r.probe === 'EHOSTUNREACH') {
    return `no route: ${r.hops.length === 0 ? 'the source has no route to it (an --internal network has no default route), so nothing was sent' : 'the host has no route to it'} (${r.probe}).`;
  }
  const outcome = r.probe === 'refused' ? 'reached its destination, which refused the connection' : r.probe === 'timeout' ? 'crossed the host without a drop, but no answer came' : 'delivered';
  const dst = /(\d+\.\d+\.\d+\.\d+)(?::\d+)?\/(?:tcp|udp|icmp)$/.exec(flow)?.[1];
  const where = (ip: string | undefined): string => (ip && names.containerOfIp.has(ip) ? `, where ${names.containerOfIp.get(ip)!} runs` : '');
  const overVxlan = r.tunnel ? `carried over VXLAN out of ${r.tunnel.oif} to host ${r.tunnel.host}${where(arrivedAt ?? dst)}` : '';
  if (r.hops.length === 0 && r.tunnel) {
    return `${outcome}: from the container's interface (a macvlan of the overlay's VXLAN link) straight into the VXLAN link, no bridge and no hook of the host's on the way, ${overVxlan}.`;
  }
  if (r.hops.length === 0 && r.packets > 0 && ['connected', 'reply', 'refused', 'sent'].includes(r.probe)) {
    return `delivered at layer 2 (${r.probe}): the packets crossed only their bridge, where no rule of berth's applies while no network has ICC off.`;
  }
  if (r.hops.length === 0) {
    return r.probe === 'waited'
      ? 'no such packet crossed the host while berth waited.'
      : `no packet crossed the host's hooks (${r.probe}): the two ends share a bridge and br_netfilter is off, so the frames never leave layer 2, or nothing was sent.`;
  }
  const port = /:(\d+)\/(tcp|udp)$/.exec(flow);
  const only = port ? names.publishedOn.get(`${port[2]}/${port[1]}`) : undefined;
  if (r.translated.length === 0 && only && (r.probe === 'refused' || r.probe === 'timeout')) return `not translated: port ${port![1]}/${port![2]} is published on ${only} only, not on the address asked.`;
  const via = r.translated.length > 0 ? `, ${r.translated.join(', ')}` : '';
  const left = r.leftBy ? `, leaving by ${r.leftBy}${names.networkOfLink.has(r.leftBy) ? ` (${names.networkOfLink.get(r.leftBy)!})` : ''}` : '';
  return `${outcome}${via}${left}${overVxlan ? `, ${overVxlan}` : ''}.`;
}
