/**
 * The page `berth topology --serve` shows: the topology drawn as the tutorials draw it —
 * each namespace a box (the host's holding its bridges and their ports, each container's
 * its interfaces), veth pairs as cables, bridge ports wired to their switch, VXLAN links
 * to the other hosts, published ports on the host's edge — laid out by ELK (elkjs, a
 * maintained layered-graph layout) and redrawn whenever berthd reports a change. The
 * browser script is plain JavaScript in a string: the server sends it as it is.
 */
export const TOPOLOGY_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>berth topology</title>
<style>
  body { font: 12px ui-monospace, monospace; margin: 0; background: #fafafa; color: #222; }
  header { padding: 8px 12px; background: #1f2937; color: #f9fafb; }
  header span { color: #9ca3af; margin-left: 1em; }
  svg { display: block; }
  .ns > rect { fill: #fff; stroke: #9ca3af; rx: 6; }
  .ns.host > rect { fill: #eef2ff; stroke: #6366f1; }
  .ns > text { font-weight: bold; }
  .if > rect { fill: #ecfeff; stroke: #0891b2; rx: 3; }
  .if.bridge > rect { fill: #fef3c7; stroke: #d97706; }
  .if.vxlan > rect { fill: #fce7f3; stroke: #db2777; }
  .remote > rect, .port > rect { fill: #f3f4f6; stroke: #6b7280; stroke-dasharray: 4 2; }
  .edge { fill: none; stroke: #4b5563; stroke-width: 1.2; }
  .edge.veth { stroke: #0891b2; stroke-width: 2; }
  .edge.tunnel { stroke: #db2777; stroke-dasharray: 6 3; }
  .edge.dnat { stroke: #16a34a; }
  #drift { color: #b91c1c; padding: 4px 12px; }
</style>
</head>
<body>
<header>berth topology<span id="when">loading…</span></header>
<div id="drift"></div>
<svg id="view" xmlns="http://www.w3.org/2000/svg"></svg>
<script src="/elk.js"></script>
<script>
const elk = new ELK();
const W = 150, H = 34;
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

/** The topology as an ELK graph: namespaces as compound nodes, interfaces inside, wires as edges. */
function toGraph(t) {
  const children = [], edges = [];
  const meta = new Map();
  for (const ns of t.namespaces) {
    const id = 'ns:' + ns.name;
    const inner = ns.interfaces.filter((i) => i.name !== 'lo').map((i) => {
      const nid = ns.name + ':' + i.name;
      meta.set(nid, { kind: 'if', sub: i.kind || '', lines: [i.name, (i.kind || '') + (i.vxlan ? ' vni ' + i.vxlan.vni : ''), (i.addresses || []).join(' '), i.network ? '[' + i.network + ']' : ''] });
      return { id: nid, width: W, height: H + 18 };
    });
    meta.set(id, { kind: 'ns', sub: ns.kind === 'container' ? '' : 'host', lines: [ns.kind === 'container' ? 'container ' + ns.name : ns.name] });
    children.push({ id, children: inner, layoutOptions: { 'elk.padding': '[top=24,left=10,bottom=10,right=10]' } });
    for (const i of ns.interfaces) {
      if (i.master) edges.push({ id: 'm:' + ns.name + ':' + i.name, sources: [ns.name + ':' + i.name], targets: [ns.name + ':' + i.master], cls: 'port' });
      if (i.peerName && ns.kind === 'container') edges.push({ id: 'v:' + ns.name + ':' + i.name, sources: [ns.name + ':' + i.name], targets: [i.peerName], cls: 'veth' });
    }
  }
  for (const x of t.tunnels) {
    for (const vtep of new Set(x.peers.map((p) => p.vtep))) {
      const rid = 'remote:' + vtep;
      if (!meta.has(rid)) { meta.set(rid, { kind: 'remote', lines: ['host ' + vtep] }); children.push({ id: rid, width: W, height: H }); }
      edges.push({ id: 't:' + x.link + ':' + vtep, sources: ['host:' + x.link], targets: [rid], cls: 'tunnel' });
    }
  }
  for (const p of t.ports) {
    const pid = 'port:' + p.hostIp + ':' + p.hostPorts + '/' + p.proto;
    meta.set(pid, { kind: 'port', lines: [p.hostIp + ':' + p.hostPorts + '/' + p.proto, '→ ' + p.container + ':' + p.containerPorts] });
    children.push({ id: pid, width: W, height: H });
    const target = t.namespaces.find((n) => n.name === p.container)?.interfaces.find((i) => i.addresses.some((a) => a.startsWith(p.containerIp + '/')));
    edges.push({ id: 'p:' + pid, sources: [pid], targets: [target ? p.container + ':' + target.name : 'ns:' + p.container], cls: 'dnat' });
  }
  const known = new Set([...meta.keys()]);
  return { meta, graph: { id: 'root', layoutOptions: { 'elk.algorithm': 'layered', 'elk.direction': 'RIGHT', 'elk.hierarchyHandling': 'INCLUDE_CHILDREN', 'elk.spacing.nodeNode': '18' }, children, edges: edges.filter((e) => known.has(e.sources[0]) && known.has(e.targets[0])) } };
}

function draw(laid, meta, edgeClass) {
  const out = [];
  const node = (n, dx, dy) => {
    const m = meta.get(n.id) || { kind: 'if', lines: [n.id] };
    const x = dx + n.x, y = dy + n.y;
    out.push('<g class="' + m.kind + ' ' + esc(m.sub || '') + '" data-id="' + esc(n.id) + '"><rect x="' + x + '" y="' + y + '" width="' + n.width + '" height="' + n.height + '"></rect>');
    m.lines.filter((l) => l).forEach((l, k) => out.push('<text x="' + (x + 6) + '" y="' + (y + 13 + k * 11) + '">' + esc(l) + '</text>'));
    out.push('</g>');
    for (const c of n.children || []) node(c, x, y);
  };
  for (const n of laid.children) node(n, 0, 0);
  // ELK gives an edge's points relative to its container (the nodes' lowest common ancestor).
  const origin = new Map([['root', { x: 0, y: 0 }]]);
  const place = (n, dx, dy) => { origin.set(n.id, { x: dx + n.x, y: dy + n.y }); for (const c of n.children || []) place(c, dx + n.x, dy + n.y); };
  for (const n of laid.children) place(n, 0, 0);
  const edges = [];
  const walk = (n) => {
    for (const e of n.edges || []) for (const s of e.sections || []) {
      const o = origin.get(e.container || n.id) || { x: 0, y: 0 };
      const pts = [s.startPoint, ...(s.bendPoints || []), s.endPoint].map((p) => (o.x + p.x) + ',' + (o.y + p.y)).join(' ');
      edges.push('<polyline class="edge ' + edgeClass.get(e.id) + '" data-id="' + esc(e.id) + '" points="' + pts + '"></polyline>');
    }
    for (const c of n.children || []) walk(c);
  };
  walk(laid);
  return out.join('') + edges.join('');
}

let drawn = 0;
async function refresh() {
  const t = await (await fetch('/topology.json')).json();
  const { meta, graph } = toGraph(t);
  const edgeClass = new Map(graph.edges.map((e) => [e.id, e.cls]));
  const laid = await elk.layout(graph);
  const svg = document.getElementById('view');
  svg.setAttribute('width', laid.width + 20);
  svg.setAttribute('height', laid.height + 20);
  svg.innerHTML = draw(laid, meta, edgeClass);
  document.getElementById('drift').textContent = t.drift.map((d) => 'drift ' + d.kind + ': ' + d.detail).join('  ·  ');
  document.getElementById('when').textContent = 'drawn ' + new Date().toLocaleTimeString() + ', ' + t.namespaces.length + ' namespaces';
  document.body.dataset.drawn = String(++drawn);
}

let pending = false;
const later = () => { if (pending) return; pending = true; setTimeout(() => { pending = false; refresh().catch((e) => console.error(e)); }, 150); };
new EventSource('/changes').onmessage = later;
refresh().catch((e) => { document.getElementById('when').textContent = String(e); });
</script>
</body>
</html>
`;
