/** The bridge driver's options, validated once into a typed configuration. */
import { invalid } from '../../../errors.js';
import { parseIp } from '../../ipam/index.js';
import type { NetworkRecord } from '../../model.js';
import type { DriverContext } from '../driver.js';
import { parseBoolOption, parseIfNameOption, parseMtuOption } from '../options.js';

export const OPT = {
  name: 'com.docker.network.bridge.name',
  enableIcc: 'com.docker.network.bridge.enable_icc',
  masquerade: 'com.docker.network.bridge.enable_ip_masquerade',
  hostBindingIpv4: 'com.docker.network.bridge.host_binding_ipv4',
  defaultBridge: 'com.docker.network.bridge.default_bridge',
  mtu: 'com.docker.network.driver.mtu',
} as const;

export interface BridgeConfig {
  bridgeName: string;
  /** The default network on the user's bridge (-b): it must exist; berth lends it addresses only. */
  external: boolean;
  isDefault: boolean;
  enableIcc: boolean;
  enableMasquerade: boolean;
  hostBindingIpv4: string;
  mtu: number;
  /** Gateway addresses the bridge carries, CIDR form. */
  gateways: string[];
}

export function parseBridgeConfig(net: NetworkRecord, ctx: DriverContext): BridgeConfig {
  const o = net.options;
  const isDefault = parseBoolOption(OPT.defaultBridge, o[OPT.defaultBridge], false);
  const given = o[OPT.name];
  const bridgeName =
    given !== undefined ? parseIfNameOption(OPT.name, given) : isDefault ? ctx.defaultBridge.name : `br-${net.id.slice(0, 12)}`;
  const hostBinding = o[OPT.hostBindingIpv4] ?? '0.0.0.0';
  try {
    if (parseIp(hostBinding).family !== 4) throw new Error("not IPv4");
  } catch {
    throw invalid(`failed to parse ${OPT.hostBindingIpv4} value: "${hostBinding}" is not a valid IPv4 address`);
  }
  return {
    bridgeName,
    external: isDefault && ctx.defaultBridge.external,
    isDefault,
    enableIcc: parseBoolOption(OPT.enableIcc, o[OPT.enableIcc], true),
    enableMasquerade: parseBoolOption(OPT.masquerade, o[OPT.masquerade], true),
    hostBindingIpv4: hostBinding,
    mtu: parseMtuOption(OPT.mtu, o[OPT.mtu], ctx.defaultMtu),
    gateways: net.ipam.pools.map((p) => `${p.gateway}/${p.subnet.split('/')[1]}`),
  };
}

/** Inspect shows the given options plus the kernel bridge's name (and, for the default, all of them). */
export function displayOptions(net: NetworkRecord, c: BridgeConfig): Record<string, string> {
  if (!c.isDefault) return { ...net.options, [OPT.name]: c.bridgeName };
  return {
    [OPT.defaultBridge]: 'true',
    [OPT.enableIcc]: String(c.enableIcc),
    [OPT.masquerade]: String(c.enableMasquerade),
    [OPT.hostBindingIpv4]: c.hostBindingIpv4,
    [OPT.name]: c.bridgeName,
    [OPT.mtu]: String(c.mtu),
    ...net.options,
  };
}
