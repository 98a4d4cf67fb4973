/**
 * docker's createIPAMConfig: each --ip-range, --gateway and --aux-address goes to the
 * --subnet that contains it (not by position), with docker's error messages.
 */
import { BlockList, isIP } from 'node:net';
import { CliError } from '../../errors.js';

export interface IpamOptions {
  readonly subnets: readonly string[];
  readonly ipRanges: readonly string[];
  readonly gateways: readonly string[];
  /** name=ip pairs, in the order given. */
  readonly auxAddresses: readonly (readonly [string, string])[];
}

/** One entry of the API's `IPAM.Config`; empty fields are left out as Go's omitempty does. */
export interface IpamConfig {
  Subnet: string;
  IPRange?: string;
  Gateway?: string;
  AuxiliaryAddresses?: Record<string, string>;
}

export function ipamConfigs(o: IpamOptions): IpamConfig[] {
  if (o.subnets.length < o.ipRanges.length || o.subnets.length < o.gateways.length) {
    throw new CliError('every ip-range or gateway must have a corresponding subnet');
  }
  const configs = new Map<string, IpamConfig>();
  for (const s of o.subnets) {
    for (const k of configs.keys()) {
      if (contains(s, k) || contains(k, s)) throw new CliError('multiple overlapping subnet configuration is not supported');
    }
    configs.set(s, { Subnet: s });
  }
  const place = (value: string, what: string, apply: (c: IpamConfig) => void): void => {
    let matched = false;
    for (const s of o.subnets) {
      if (!contains(s, value)) continue;
      apply(configs.get(s)!);
      matched = true;
    }
    if (!matched) throw new CliError(`no matching subnet for ${what} ${value}`);
  };
  for (const r of o.ipRanges) {
    place(r, 'range', (c) => {
      if (c.IPRange) throw new CliError(`cannot configure multiple ranges (${r}, ${c.IPRange}) on the same subnet (${c.Subnet})`);
      c.IPRange = r;
    });
  }
  for (const g of o.gateways) {
    place(g, 'gateway', (c) => {
      if (c.Gateway) throw new CliError(`cannot configure multiple gateways (${g}, ${c.Gateway}) for the same subnet (${c.Subnet})`);
      c.Gateway = g;
    });
  }
  for (const [name, addr] of o.auxAddresses) {
    place(addr, 'aux-address', (c) => {
      c.AuxiliaryAddresses = { ...c.AuxiliaryAddresses, [name]: addr };
    });
  }
  return [...configs.values()];
}

/** docker's subnetMatches: whether the address of `data` (an IP or a CIDR) lies in `subnet`. */
function contains(subnet: string, data: string): boolean {
  const net = parseCidr(subnet);
  if (!net) throw new CliError(`invalid subnet: invalid CIDR address: ${subnet}`);
  let ip = data;
  if (data.includes('/')) {
    const d = parseCidr(data);
    if (!d) throw new CliError(`invalid CIDR address: ${data}`);
    ip = d.address;
  }
  const family = isIP(ip);
  if (family === 0 || family !== net.family) return false;
  const list = new BlockList();
  list.addSubnet(net.address, net.prefix, family === 4 ? 'ipv4' : 'ipv6');
  return list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

function parseCidr(s: string): { address: string; prefix: number; family: 4 | 6 } | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const address = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  const family = isIP(address);
  if (family === 0 || !/^\d{1,3}$/.test(bits)) return undefined;
  const prefix = Number(bits);
  if (prefix > (family === 4 ? 32 : 128)) return undefined;
  return { address, prefix, family: family === 4 ? 4 : 6 };
}
