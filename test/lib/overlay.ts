/**
 * Helpers for tests of overlay networks across the hosts of a ClusterWorld: a container's
 * namespace and addresses, a VXLAN link's tables read in a host's namespace, a forged
 * VXLAN frame sent from any namespace, the ICMP echoes a namespace's stack received.
 */
import { sh, must, type World } from './world.js';

/** A running container's network namespace, its overlay address and MAC (eth0). */
export async function containerOn(w: World, name: string, network: string): Promise<{ netns: string; ip: string; mac: string }> {
  const pid = await w.dockerOk('inspect', '-f', '{{.State.Pid}}', name);
  const ip = await w.dockerOk('inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, name);
  const mac = await w.dockerOk('inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").MacAddress}}`, name);
  return { netns: `/proc/${pid}/ns/net`, ip, mac: mac.toLowerCase() };
}

/** Run a command in a namespace given by path. */
export async function inNetns(netns: string, args: readonly string[], timeoutMs = 15_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return sh('nsenter', [`--net=${netns}`, '--', ...args], { timeoutMs });
}

/** The VXLAN link of a network with VNI `vni` in a host's namespace: vx-<vni, 6 hex digits>. */
export const vxlanLink = (vni: number): string => `vx-${vni.toString(16).padStart(6, '0')}`;

/** `bridge fdb show dev` lines of the link's own entries ("MAC dst IP"), sorted. */
export async function fdbOf(w: World, dev: string): Promise<string[]> {
  const out = await must('nsenter', [`--net=${w.nsPath}`, '--', 'bridge', '-j', 'fdb', 'show', 'dev', dev]);
  const rows = JSON.parse(out.trim() || '[]') as { mac: string; dst?: string; flags?: string[] }[];
  return rows.filter((r) => r.dst !== undefined && (r.flags ?? []).includes('self')).map((r) => `${r.mac} ${r.dst!}`).sort();
}

/** `ip neigh show dev` as "IP MAC", sorted. */
export async function neighOf(w: World, dev: string): Promise<string[]> {
  const out = await must('nsenter', [`--net=${w.nsPath}`, '--', 'ip', '-j', 'neigh', 'show', 'dev', dev]);
  const rows = JSON.parse(out.trim() || '[]') as { dst: string; lladdr?: string }[];
  return rows.map((r) => `${r.dst} ${r.lladdr ?? ''}`).sort();
}

/** The ICMP echo requests a namespace's stack has received (/proc/net/snmp's Icmp InEchos). */
export async function echoesReceived(netns: string): Promise<number> {
  const snmp = (await inNetns(netns, ['cat', '/proc/net/snmp'])).stdout.split('\n').filter((l) => l.startsWith('Icmp:'));
  const [names, values] = snmp.map((l) => l.split(/\s+/));
  const at = names?.indexOf('InEchos') ?? -1;
  return Number(values?.[at]);
}

/**
 * A VXLAN datagram's payload carrying an ICMP echo request: the VXLAN header (VNI), an
 * Ethernet frame to `dstMac`, an IPv4 packet from `srcIp` to `dstIp`.
 */
export function forgedEcho(o: { vni: number; dstMac: string; srcMac: string; srcIp: string; dstIp: string }): Buffer {
  const icmp = Buffer.concat([Buffer.from([8, 0, 0, 0, 0x12, 0x34, 0, 1]), Buffer.from('berth forged echo')]);
  icmp.writeUInt16BE(checksum(icmp), 2);
  const ip = Buffer.alloc(20);
  ip.writeUInt8(0x45, 0);
  ip.writeUInt16BE(20 + icmp.length, 2);
  ip.writeUInt8(64, 8);
  ip.writeUInt8(1, 9);
  Buffer.from(o.srcIp.split('.').map(Number)).copy(ip, 12);
  Buffer.from(o.dstIp.split('.').map(Number)).copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  const mac = (m: string): Buffer => Buffer.from(m.replace(/:/g, ''), 'hex');
  const eth = Buffer.concat([mac(o.dstMac), mac(o.srcMac), Buffer.from([0x08, 0x00])]);
  const vxlan = Buffer.alloc(8);
  vxlan.writeUInt32BE(0x08000000, 0);
  vxlan.writeUInt32BE(o.vni << 8, 4);
  return Buffer.concat([vxlan, eth, ip, icmp]);
}

function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) + (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Send `payload` `count` times as UDP datagrams to ip:port from inside a namespace (a node process there). */
export async function sendUdpFrom(netns: string, payload: Buffer, to: { ip: string; port: number }, count = 5): Promise<void> {
  const script = `const s=require('dgram').createSocket('udp4');const b=Buffer.from(process.argv[1],'hex');let n=${count};const go=()=>s.send(b,${to.port},'${to.ip}',e=>{if(e)throw e;if(--n>0)setTimeout(go,20);else s.close();});go();`;
  const r = await inNetns(netns, [process.execPath, '-e', script, payload.toString('hex')]);
  if (r.code !== 0) throw new Error(`sending from ${netns}: ${r.stderr}`);
}
