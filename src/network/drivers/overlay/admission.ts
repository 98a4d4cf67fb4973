/**
 * Who may send into a directly routed network. The underlay link's receiving filter
 * (direct-path.ts) hands up any frame of the network's subnet, whichever machine of the
 * segment sent it; a netdev table on the network's VXLAN link then drops an IPv4 frame
 * that no peer sent: a routed peer (of this segment) is known by its MAC and address
 * together, a tunnelled one (VXLAN, whose guard already admits the swarm's nodes only)
 * by its MAC, so a container beyond the segment may still send from other addresses
 * (a floating address, a router), as on any overlay. Local containers' frames never
 * arrive there (their macvlans reach each other directly). Pure: nft scripts, the
 * elements following setPeers/dropPeers.
 */
import { parseIp } from '../../ipam/index.js';
import { invalid } from '../../../errors.js';

/** A remote endpoint as the table knows it. */
export interface Admitted {
  mac: string;
  ipv4: string;
  routed: boolean;
}

/** The network's table, named after its VXLAN link's VNI (vx-001001 → berth_dr_001001). */
export function admissionTable(vxlan: string): string {
  return `berth_dr_${vxlan.slice(3)}`;
}

/** Whether a netdev table is one of these (a sweep removes those of networks gone). */
export const ADMISSION_TABLES = /^berth_dr_[0-9a-f]{6}$/;

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** The set an endpoint is in, and its element there. */
function element(p: Admitted): { set: 'routed' | 'tunnelled'; key: string } {
  const mac = p.mac.toLowerCase();
  if (!MAC.test(mac)) throw invalid(`invalid MAC address: ${JSON.stringify(p.mac)}`);
  if (parseIp(p.ipv4).family !== 4) throw invalid(`invalid IPv4 address: ${p.ipv4}`);
  return p.routed ? { set: 'routed', key: `${mac} . ${p.ipv4}` } : { set: 'tunnelled', key: mac };
}

const keys = (peers: readonly Admitted[], set: 'routed' | 'tunnelled'): string[] => [...new Set(peers.map(element).filter((e) => e.set === set).map((e) => e.key))];

/** The whole table, made again in one transaction with exactly `peers` in it. */
export function admissionScript(vxlan: string, peers: readonly Admitted[]): string {
  const t = admissionTable(vxlan);
  const set = (name: 'routed' | 'tunnelled', type: string, comment: string): string[] => {
    const elements = keys(peers, name);
    return [`\tset ${name} {`, `\t\ttype ${type}`, `\t\tcomment "${comment}"`, ...(elements.length > 0 ? [`\t\telements = { ${elements.join(', ')} }`] : []), '\t}'];
  };
  return [
    `add table netdev ${t}`,
    `delete table netdev ${t}`,
    `table netdev ${t} {`,
    ...set('routed', 'ether_addr . ipv4_addr', 'remote endpoints on this segment: MAC . address'),
    ...set('tunnelled', 'ether_addr', 'remote endpoints beyond it, over VXLAN: MAC'),
    '\tchain admit {',
    `\t\ttype filter hook ingress device "${vxlan}" priority filter; policy accept;`,
    '\t\tmeta protocol ip ether saddr != @tunnelled ether saddr . ip saddr != @routed drop comment "directly routed overlay: only its own endpoints come in"',
    '\t}',
    '}',
    '',
  ].join('\n');
}

/** Let these peers in. Idempotent. */
export function admit(vxlan: string, peers: readonly Admitted[]): string {
  const t = admissionTable(vxlan);
  return (['routed', 'tunnelled'] as const).flatMap((set) => {
    const elements = keys(peers, set);
    return elements.length > 0 ? [`add element netdev ${t} ${set} { ${elements.join(', ')} }\n`] : [];
  }).join('');
}

/** The elements of `gone` that none of `remaining` needs, one command each (deleting an element that is not there fails). */
export function refuse(vxlan: string, gone: readonly Admitted[], remaining: readonly Admitted[]): string[] {
  const named = (p: Admitted): string => {
    const e = element(p);
    return `${e.set} { ${e.key} }`;
  };
  const held = new Set(remaining.map(named));
  return [...new Set(gone.map(named))].filter((e) => !held.has(e)).map((e) => `delete element netdev ${admissionTable(vxlan)} ${e}\n`);
}
