/**
 * Who may send into a directly routed network: its known remote endpoints only, each by
 * its MAC and address together. The underlay link's receiving filter (direct-path.ts)
 * hands up any frame of the network's subnet, whichever machine of the segment sent it; a
 * netdev table on the network's VXLAN link then drops an IPv4 frame whose source is not
 * one of the network's peers (frames VXLAN brought are checked the same way). Local
 * containers' frames never arrive there (their macvlans reach each other directly).
 * Pure: nft scripts, the peers' elements following setPeers/dropPeers.
 */
import type { RemoteEndpoint } from '../../shared.js';
import { parseIp } from '../../ipam/index.js';
import { invalid } from '../../../errors.js';

/** The network's table, named after its VXLAN link's VNI (vx-001001 → berth_dr_001001). */
export function admissionTable(vxlan: string): string {
  return `berth_dr_${vxlan.slice(3)}`;
}

/** Whether a netdev table is one of these (a sweep removes those of networks gone). */
export const ADMISSION_TABLES = /^berth_dr_[0-9a-f]{6}$/;

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

function element(p: Pick<RemoteEndpoint, 'mac' | 'ipv4'>): string {
  const mac = p.mac.toLowerCase();
  if (!MAC.test(mac)) throw invalid(`invalid MAC address: ${JSON.stringify(p.mac)}`);
  if (parseIp(p.ipv4).family !== 4) throw invalid(`invalid IPv4 address: ${p.ipv4}`);
  return `${mac} . ${p.ipv4}`;
}

/** The whole table, made again in one transaction with exactly `peers` in it. */
export function admissionScript(vxlan: string, peers: readonly Pick<RemoteEndpoint, 'mac' | 'ipv4'>[]): string {
  const t = admissionTable(vxlan);
  const elements = [...new Set(peers.map(element))];
  return [
    `add table netdev ${t}`,
    `delete table netdev ${t}`,
    `table netdev ${t} {`,
    '\tset peers {',
    '\t\ttype ether_addr . ipv4_addr',
    '\t\tcomment "the network\'s remote endpoints: MAC . address"',
    ...(elements.length > 0 ? [`\t\telements = { ${elements.join(', ')} }`] : []),
    '\t}',
    '\tchain admit {',
    `\t\ttype filter hook ingress device "${vxlan}" priority filter; policy accept;`,
    '\t\tmeta protocol ip ether saddr . ip saddr != @peers drop comment "directly routed overlay: only its own endpoints come in"',
    '\t}',
    '}',
    '',
  ].join('\n');
}

/** Let these peers in. Idempotent. */
export function admit(vxlan: string, peers: readonly Pick<RemoteEndpoint, 'mac' | 'ipv4'>[]): string {
  return peers.length === 0 ? '' : `add element netdev ${admissionTable(vxlan)} peers { ${peers.map(element).join(', ')} }\n`;
}

/** No longer let this peer in (one command: deleting an element that is not there fails). */
export function refuse(vxlan: string, peer: Pick<RemoteEndpoint, 'mac' | 'ipv4'>): string {
  return `delete element netdev ${admissionTable(vxlan)} peers { ${element(peer)} }\n`;
}
