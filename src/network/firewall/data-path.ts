/**
 * The guard of a data path in a namespace of its own (cluster/data-path.ts), rendered
 * whole (it is small, and changes when a node comes or goes): that namespace carries the
 * swarm's VXLAN and nothing else, so it accepts VXLAN from the swarm's nodes, ICMP (path
 * MTU, IPv6 neighbour discovery), and drops the rest. One input hook and no conntrack or
 * NAT: a VXLAN packet crosses one rule and one set lookup there.
 */
import { address } from './elements.js';
import { portMatch } from './ruleset.js';
import type { FwUnderlay } from './model.js';

export const DATA_PATH_TABLE = 'berth';

export function renderDataPathGuard(u: FwUnderlay): string {
  const members = u.members.map((m) => address(m));
  const v4 = members.filter((m) => !m.includes(':'));
  const v6 = members.filter((m) => m.includes(':'));
  const elements = (list: string[]): string => (list.length > 0 ? `\t\telements = { ${list.join(', ')} }\n` : '');
  const port = portMatch(u.vxlanPorts);
  return [
    `add table inet ${DATA_PATH_TABLE}`,
    `delete table inet ${DATA_PATH_TABLE}`,
    `table inet ${DATA_PATH_TABLE} {`,
    `\tset swarm_nodes4 {\n\t\ttype ipv4_addr\n\t\tcomment "the swarm's nodes: the only sources of VXLAN"\n${elements(v4)}\t}`,
    `\tset swarm_nodes6 {\n\t\ttype ipv6_addr\n\t\tcomment "the swarm's nodes: the only sources of VXLAN"\n${elements(v6)}\t}`,
    '\tchain vxlan_in {',
    '\t\tcomment "this namespace carries the swarm\'s VXLAN only: from the swarm\'s nodes"',
    '\t\ttype filter hook input priority filter; policy drop;',
    `\t\tudp dport ${port} ip saddr @swarm_nodes4 accept`,
    `\t\tudp dport ${port} ip6 saddr @swarm_nodes6 accept`,
    `\t\tudp dport ${port} counter drop comment "VXLAN from outside the swarm"`,
    '\t\tmeta l4proto { icmp, ipv6-icmp } accept',
    '\t}',
    '}',
    '',
  ].join('\n');
}
