/** `berth topology`'s text and Graphviz renderings of a Topology. Pure. */
import type { TopoInterface, TopoNamespace, Topology } from './topology.js';

/** The text view: each namespace and its interfaces (a bridge's ports under it), tunnels, published ports, drift. */
export function renderText(t: Topology): string {
  const lines: string[] = [];
  for (const ns of t.namespaces) {
    lines.push(heading(ns));
    const ports = new Map<string, TopoInterface[]>();
    for (const i of ns.interfaces) if (i.master) ports.set(i.master, [...(ports.get(i.master) ?? []), i]);
    for (const i of ns.interfaces) {
      if (i.master && ns.interfaces.some((b) => b.name === i.master)) continue;
      lines.push(`  ${describe(i)}`);
      for (const p of ports.get(i.name) ?? []) lines.push(`    └ ${describe(p)}`);
      const tunnel = t.tunnels.find((x) => x.link === i.name && ns.kind === 'host');
      for (const p of tunnel?.peers ?? []) lines.push(`      → ${p.vtep}  ${p.mac}${p.endpoint ? `  ${p.endpoint} ${p.ip ?? ''}` : ''}`.trimEnd());
    }
    const routes = ns.routes.map((r) => `${r.dst}${r.via ? ` via ${r.via}` : ''}${r.dev ? ` dev ${r.dev}` : ''}`);
    if (routes.length > 0) lines.push(`  routes: ${routes.join('; ')}`);
  }
  lines.push('', 'networks');
  for (const n of t.networks) lines.push(`  ${n.name} (${n.driver}, ${n.scope})  ${n.subnets.join(' ')}  links ${n.links.join(' ') || '-'}  containers ${n.containers.join(' ') || '-'}`);
  lines.push('', 'published ports');
  if (t.ports.length === 0) lines.push('  (none)');
  for (const p of t.ports) lines.push(`  ${p.hostIp}:${p.hostPorts}/${p.proto} → ${p.container} ${p.containerIp}:${p.containerPorts}   ${p.rule}`);
  lines.push('', 'drift (kernel and model disagree)');
  if (t.drift.length === 0) lines.push('  (none)');
  for (const d of t.drift) lines.push(`  ${d.kind}: ${d.detail}`);
  return `${lines.join('\n')}\n`;
}

function heading(ns: TopoNamespace): string {
  switch (ns.kind) {
    case 'host':
      return "host (berthd's namespace)";
    case 'data-path':
      return `data path (the swarm's VXLAN socket, off the host's netfilter)  ${ns.path ?? ''}`.trimEnd();
    case 'container':
      return `container ${ns.name} (${ns.containerId?.slice(0, 12) ?? '?'})  ${ns.path ?? ''}`.trimEnd();
  }
}

function describe(i: TopoInterface): string {
  const bits = [i.name.padEnd(16), (i.kind ?? '-').padEnd(7), i.addresses.join(' ') || '-', `mtu ${i.mtu}`];
  if (i.mac) bits.push(i.mac);
  if (!i.up) bits.push('DOWN');
  if (i.vxlan) bits.push(`vni ${i.vxlan.vni}${i.vxlan.local ? ` local ${i.vxlan.local}` : ''}`);
  if (i.parent) bits.push(`parent ${i.parent}`);
  if (i.peerName) bits.push(`⇄ ${i.peerName}`);
  if (i.network) bits.push(`[${i.network}]`);
  return bits.join('  ');
}

/** A Graphviz string: quotes and backslashes escaped, newlines as its \n. */
const q = (s: string): string => `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`;

/** Graphviz: a cluster per namespace, veth pairs as undirected edges, bridge ports to their bridge, tunnels to remote hosts, published ports into their container. */
export function renderDot(t: Topology): string {
  const out = ['digraph berth {', '  rankdir=LR;', '  node [shape=box, fontname="monospace", fontsize=10];'];
  const id = (ns: TopoNamespace, i: string): string => q(`${ns.name}:${i}`);
  for (const ns of t.namespaces) {
    out.push(`  subgraph ${q(`cluster_${ns.name}`)} {`, `    label=${q(ns.kind === 'container' ? `container ${ns.name}` : ns.name)};`);
    for (const i of ns.interfaces) {
      if (i.name === 'lo') continue;
      const label = [i.name, i.kind ?? '', ...i.addresses, i.network ? `[${i.network}]` : ''].filter((x) => x !== '').join('\n');
      out.push(`    ${id(ns, i.name)} [label=${q(label)}${i.kind === 'bridge' ? ', shape=hexagon' : ''}];`);
    }
    out.push('  }');
  }
  const host = t.namespaces.find((n) => n.kind === 'host');
  for (const ns of t.namespaces) {
    for (const i of ns.interfaces) {
      if (i.master) out.push(`  ${id(ns, i.name)} -> ${id(ns, i.master)} [label="port"];`);
      // Each pair once: from the container's side.
      if (i.peerName && ns.kind === 'container') out.push(`  ${id(ns, i.name)} -> ${q(i.peerName)} [dir=none, label="veth"];`);
    }
  }
  for (const x of t.tunnels) {
    for (const vtep of new Set(x.peers.map((p) => p.vtep))) out.push(`  ${q(`remote:${vtep}`)} [shape=ellipse];`, `  ${host ? id(host, x.link) : q(x.link)} -> ${q(`remote:${vtep}`)} [label=${q(`VXLAN ${x.vni}`)}];`);
  }
  for (const p of t.ports) {
    const edge = q(`port:${p.hostIp}:${p.hostPorts}/${p.proto}`);
    const target = t.namespaces.find((n) => n.name === p.container)?.interfaces.find((i) => i.addresses.some((a) => a.startsWith(`${p.containerIp}/`)));
    out.push(`  ${edge} [shape=cds];`, `  ${edge} -> ${target ? q(`${p.container}:${target.name}`) : q(p.container)} [label=${q(`DNAT :${p.containerPorts}`)}];`);
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}
