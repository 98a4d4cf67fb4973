/**
 * Where a task may run and where it goes (pure): swarmkit's placement constraints
 * (`node.id`, `node.hostname`, `node.role`, `node.ip`, `node.platform.*`,
 * `node.labels.<k>` with `==` or `!=`, values compared without case), its filters in
 * order (a node not ready or not active first, then the constraints, then a host-mode
 * port already taken), and its spread: the node with the fewest tasks of the service,
 * then the fewest tasks in all.
 */
import { invalid } from '../../errors.js';

/** A node as placement sees it. */
export interface PlacementNode {
  id: string;
  hostname: string;
  role: 'manager' | 'worker';
  labels: Record<string, string>;
  availability: 'active' | 'pause' | 'drain';
  /** Its lease lives (Ready); otherwise Down. */
  ready: boolean;
  addr: string;
  os: string;
  arch: string;
}

export interface Constraint {
  key: string;
  equal: boolean;
  value: string;
}

const KEY = /^[a-z_][a-z0-9\-_.]+$/i;
const VALUE = /^[a-z0-9:\-_\s.*()?+[\]\\^$|/]+$/i;

/** swarmkit's constraint.Parse, with its errors (the API answers them as InvalidArgument). */
export function parseConstraints(exprs: readonly string[]): Constraint[] {
  return exprs.map((e) => {
    for (const op of ['==', '!='] as const) {
      const at = e.indexOf(op);
      if (at < 0) continue;
      const key = e.slice(0, at).trim();
      const value = e.slice(at + 2).trim();
      if (!KEY.test(key)) throw invalid(`rpc error: code = InvalidArgument desc = key '${key}' is invalid`);
      if (!VALUE.test(value)) throw invalid(`rpc error: code = InvalidArgument desc = value '${value}' is invalid`);
      return { key, equal: op === '==', value };
    }
    throw invalid('rpc error: code = InvalidArgument desc = constraint expected one operator from ==, !=');
  });
}

function matchOne(c: Constraint, what: string): boolean {
  return (c.value.toLowerCase() === what.toLowerCase()) === c.equal;
}

/** swarmkit's NodeMatches: every constraint holds on `n` (an unknown key never does). */
export function nodeMatches(constraints: readonly Constraint[], n: PlacementNode): boolean {
  return constraints.every((c) => {
    const key = c.key.toLowerCase();
    if (key === 'node.id') return matchOne(c, n.id);
    if (key === 'node.hostname') return matchOne(c, n.hostname);
    if (key === 'node.role') return matchOne(c, n.role);
    if (key === 'node.ip') return (c.value === n.addr) === c.equal;
    if (key === 'node.platform.os') return matchOne(c, n.os);
    if (key === 'node.platform.arch') return matchOne(c, n.arch);
    if (key.startsWith('node.labels.') && key.length > 'node.labels.'.length) return matchOne(c, n.labels[c.key.slice('node.labels.'.length)] ?? '');
    return false;
  });
}

/** What placing one task asks. */
export interface PlacementAsk {
  constraints: readonly Constraint[];
  /** Host-mode published ports (protocol/port) the task needs free on its node. */
  hostPorts: readonly string[];
  /** Tasks of the same service per node (running or about to). */
  serviceLoad: ReadonlyMap<string, number>;
  /** All tasks per node. */
  totalLoad: ReadonlyMap<string, number>;
  /** Host-mode ports already held per node. */
  heldPorts: ReadonlyMap<string, ReadonlySet<string>>;
  /** Tasks of this service one node may run (0: no limit). */
  maxReplicas: number;
}

/** A node for the task, or swarmkit's words for why there is none. */
export type Placement = { nodeId: string } | { error: string };

/** Pick the node for one task among `nodes`, as swarmkit's scheduler would. */
export function place(nodes: readonly PlacementNode[], ask: PlacementAsk): Placement {
  const failures = { ready: 0, constraints: 0, ports: 0, max: 0 };
  const fit: PlacementNode[] = [];
  for (const n of nodes) {
    if (!n.ready || n.availability !== 'active') failures.ready++;
    else if (!nodeMatches(ask.constraints, n)) failures.constraints++;
    else if (ask.hostPorts.some((p) => ask.heldPorts.get(n.id)?.has(p))) failures.ports++;
    else if (ask.maxReplicas > 0 && (ask.serviceLoad.get(n.id) ?? 0) >= ask.maxReplicas) failures.max++;
    else fit.push(n);
  }
  if (fit.length === 0) return { error: noSuitableNode(failures) };
  const load = (n: PlacementNode): [number, number] => [ask.serviceLoad.get(n.id) ?? 0, ask.totalLoad.get(n.id) ?? 0];
  const best = fit.reduce((a, b) => {
    const [sa, ta] = load(a);
    const [sb, tb] = load(b);
    if (sb !== sa) return sb < sa ? b : a;
    if (tb !== ta) return tb < ta ? b : a;
    return b.id < a.id ? b : a;
  });
  return { nodeId: best.id };
}

const plural = (n: number, one: string, many: string): string => (n === 1 ? one : many.replace('%d', String(n)));

/** swarmkit's Pipeline.Explain: the filters' words, the most failures first. */
function noSuitableNode(f: { ready: number; constraints: number; ports: number; max: number }): string {
  const parts: [number, string][] = [
    [f.ready, plural(f.ready, '1 node not available for new tasks', '%d nodes not available for new tasks')],
    [f.constraints, plural(f.constraints, 'scheduling constraints not satisfied on 1 node', 'scheduling constraints not satisfied on %d nodes')],
    [f.ports, plural(f.ports, 'host-mode port already in use on 1 node', 'host-mode port already in use on %d nodes')],
    [f.max, 'max replicas per node limit exceed'],
  ];
  const said = parts.filter(([n]) => n > 0).sort((a, b) => b[0] - a[0]).map(([, s]) => s);
  return said.length > 0 ? `no suitable node (${said.join('; ')})` : 'no suitable node';
}
