/**
 * `--network` (plain or `name=net,alias=a,ip=…` long form) together with the legacy
 * per-container flags (`--ip`, `--ip6`, `--mac-address`, `--network-alias`, `--link`,
 * `--link-local-ip`) into the create request's NetworkMode and EndpointsConfig, with
 * docker's parseNetworkOpts rules: the legacy flags apply to the first network; a lone
 * network without options sends an empty map; no network sends a zero "default" entry.
 */
import { CliError } from '../../errors.js';
import { parseCsvLine } from '../../opts.js';

/** One `--network` value (opts.NetworkAttachmentOpts). */
export interface NetworkAttachment {
  target: string;
  aliases: string[];
  driverOpts: Record<string, string>;
  links: string[];
  ipv4: string;
  ipv6: string;
  linkLocalIps: string[];
  macAddress: string;
  gwPriority: number;
}

/** The per-container flags that configure the first network's endpoint. */
export interface LegacyEndpointFlags {
  readonly aliases: readonly string[];
  readonly links: readonly string[];
  readonly ipv4: string;
  readonly ipv6: string;
  readonly macAddress: string;
  readonly linkLocalIps: readonly string[];
}

/** The API's EndpointSettings with every key docker's client sends. */
export interface EndpointSettings {
  IPAMConfig: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] } | null;
  Links: string[] | null;
  Aliases: string[] | null;
  MacAddress: string;
  DriverOpts: Record<string, string> | null;
  GwPriority: number;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  DNSNames: string[] | null;
}

const LONG_SYNTAX = /\w+=\w+(,\w+=\w+)*/;

/** NetworkOpt.Set: parses one `--network` value; throws with docker's messages. */
export function parseNetworkFlag(value: string): NetworkAttachment {
  const n: NetworkAttachment = { target: '', aliases: [], driverOpts: {}, links: [], ipv4: '', ipv6: '', linkLocalIps: [], macAddress: '', gwPriority: 0 };
  if (!LONG_SYNTAX.test(value)) {
    n.target = value;
    return n;
  }
  for (const field of parseCsvLine(value)) {
    const lower = field.toLowerCase();
    const eq = lower.indexOf('=');
    if (eq <= 0) throw new Error(`invalid field ${field}`);
    const key = lower.slice(0, eq).trim();
    const val = lower.slice(eq + 1).trim();
    switch (key) {
      case 'name':
        n.target = val;
        break;
      case 'alias':
        n.aliases.push(val);
        break;
      case 'ip':
        n.ipv4 = val;
        break;
      case 'ip6':
        n.ipv6 = val;
        break;
      case 'mac-address':
        n.macAddress = val;
        break;
      case 'link-local-ip':
        n.linkLocalIps.push(val);
        break;
      case 'driver-opt': {
        const deq = val.indexOf('=');
        if (deq <= 0) throw new Error('invalid key value pair format in driver options');
        n.driverOpts[val.slice(0, deq).trim()] = val.slice(deq + 1).trim();
        break;
      }
      case 'gw-priority':
        if (!/^[+-]?\d+$/.test(val)) throw new Error(`invalid gw-priority (${val}): invalid syntax`);
        n.gwPriority = Number(val);
        break;
      default:
        throw new Error(`invalid field key ${key}`);
    }
  }
  if (n.target === '') throw new Error('network name/id is not specified');
  return n;
}

/** Validator form of parseNetworkFlag for the flag table. */
export function validateNetworkFlag(value: string): string {
  parseNetworkFlag(value);
  return value;
}

/** container.NetworkMode.IsUserDefined. */
export function isUserDefined(mode: string): boolean {
  return !['default', 'bridge', 'host', 'none'].includes(mode) && !mode.startsWith('container:');
}

/** The network mode the first `--network` names ("default" without one). */
export function networkMode(attachments: readonly NetworkAttachment[]): string {
  return attachments[0]?.target ?? 'default';
}

/** NetworkMode.NetworkName: the EndpointsConfig key of the main network. */
export function networkName(mode: string): string {
  return mode.startsWith('container:') ? 'container' : mode;
}

export function endpointsConfig(attachments: readonly NetworkAttachment[], legacy: LegacyEndpointFlags): Record<string, EndpointSettings> {
  const endpoints: Record<string, EndpointSettings> = {};
  if (attachments.length === 0) {
    endpoints.default = toEndpoint(applyLegacy(emptyAttachment('default'), legacy));
    return endpoints;
  }
  let userDefined = false;
  let other = false;
  attachments.forEach((attachment, i) => {
    if (isUserDefined(attachment.target)) userDefined = true;
    else other = true;
    const n = i === 0 ? applyLegacy({ ...attachment }, legacy) : attachment;
    const ep = toEndpoint(n);
    if (Object.prototype.hasOwnProperty.call(endpoints, n.target)) throw new CliError(`network "${n.target}" is specified multiple times`);
    // A single network without options is sent as an empty map, for older daemons.
    if (i === 0 && attachments.length === 1 && isZero(ep)) return;
    endpoints[n.target] = ep;
  });
  if (userDefined && other) throw new CliError('conflicting options: cannot attach both user-defined and non-user-defined network-modes');
  return endpoints;
}

function emptyAttachment(target: string): NetworkAttachment {
  return { target, aliases: [], driverOpts: {}, links: [], ipv4: '', ipv6: '', linkLocalIps: [], macAddress: '', gwPriority: 0 };
}

/** applyContainerOptions: the legacy flags go to the first network, unless it set its own. */
function applyLegacy(n: NetworkAttachment, legacy: LegacyEndpointFlags): NetworkAttachment {
  const conflict = (what: string): never => {
    throw new CliError(`conflicting options: cannot specify both ${what}`);
  };
  if (n.aliases.length > 0 && legacy.aliases.length > 0) conflict('--network-alias and per-network alias');
  if (n.links.length > 0 && legacy.links.length > 0) conflict('--link and per-network links');
  if (n.ipv4 !== '' && legacy.ipv4 !== '') conflict('--ip and per-network IPv4 address');
  if (n.ipv6 !== '' && legacy.ipv6 !== '') conflict('--ip6 and per-network IPv6 address');
  if (n.macAddress !== '' && legacy.macAddress !== '') conflict('--mac-address and per-network MAC address');
  if (n.linkLocalIps.length > 0 && legacy.linkLocalIps.length > 0) conflict('--link-local-ip and per-network link-local IP addresses');
  const out = { ...n };
  if (legacy.aliases.length > 0) out.aliases = [...legacy.aliases];
  // On a user-defined network a link is an endpoint alias; on the default bridge it is a legacy link.
  if (isUserDefined(n.target) && legacy.links.length > 0) out.links = [...legacy.links];
  if (legacy.ipv4 !== '') out.ipv4 = legacy.ipv4;
  if (legacy.ipv6 !== '') out.ipv6 = legacy.ipv6;
  if (legacy.macAddress !== '') out.macAddress = legacy.macAddress;
  if (legacy.linkLocalIps.length > 0) out.linkLocalIps = [...legacy.linkLocalIps];
  return out;
}

/** parseNetworkAttachmentOpt. */
function toEndpoint(n: NetworkAttachment): EndpointSettings {
  if (n.target.trim() === '') throw new CliError('no name set for network');
  if (!isUserDefined(n.target)) {
    if (n.aliases.length > 0) throw new CliError('network-scoped aliases are only supported for user-defined networks');
    if (n.links.length > 0) throw new CliError('links are only supported for user-defined networks');
  }
  if (n.macAddress !== '' && !isMacAddress(n.macAddress.trim())) throw new CliError(`${n.macAddress} is not a valid mac address`);
  const hasIpam = n.ipv4 !== '' || n.ipv6 !== '' || n.linkLocalIps.length > 0;
  return {
    IPAMConfig: hasIpam
      ? {
          ...(n.ipv4 === '' ? {} : { IPv4Address: n.ipv4 }),
          ...(n.ipv6 === '' ? {} : { IPv6Address: n.ipv6 }),
          ...(n.linkLocalIps.length === 0 ? {} : { LinkLocalIPs: n.linkLocalIps }),
        }
      : null,
    Links: n.links.length > 0 ? n.links : null,
    Aliases: n.aliases.length > 0 ? n.aliases : null,
    MacAddress: n.macAddress,
    DriverOpts: Object.keys(n.driverOpts).length > 0 ? n.driverOpts : null,
    GwPriority: n.gwPriority,
    NetworkID: '',
    EndpointID: '',
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: null,
  };
}

function isZero(ep: EndpointSettings): boolean {
  return ep.IPAMConfig === null && ep.Links === null && ep.Aliases === null && ep.MacAddress === '' && ep.DriverOpts === null && ep.GwPriority === 0;
}

/** net.ParseMAC: 6, 8 or 20 octets separated by ':' or '-', or dotted groups of four hex digits. */
export function isMacAddress(s: string): boolean {
  const octets = (sep: string): boolean => {
    const parts = s.split(sep);
    return [6, 8, 20].includes(parts.length) && parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p));
  };
  const dotted = (): boolean => {
    const parts = s.split('.');
    return [3, 4, 10].includes(parts.length) && parts.every((p) => /^[0-9a-fA-F]{4}$/.test(p));
  };
  return octets(':') || octets('-') || dotted();
}
