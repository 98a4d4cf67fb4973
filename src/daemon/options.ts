/** berthd's command-line flags, named as dockerd names them. */
import { parseClusterStore, type ClusterStoreConfig } from '../cluster/cluster-store.js';
import { validateInsecureRegistry, validateMirror } from '../engine/images/distribution/hosts.js';
import { invalid } from '../errors.js';
import { DEFAULT_ADDRESS_POOLS, parseAddressPoolSpec, parseCidr, parseIp, type PredefinedPool } from '../network/ipam/index.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export interface DaemonOptions {
  socketPath: string;
  socketGroup: string | undefined;
  dataRoot: string;
  execRoot: string;
  pidfile: string | undefined;
  logLevel: LogLevel;
  /** -b: an existing bridge for the default network; "none" disables the default network. */
  bridge: string | undefined;
  bip: string | undefined;
  /** The pools new networks take subnets from: the given ones, else Docker's defaults. */
  addressPools: readonly PredefinedPool[];
  /** --default-address-pool as given (empty: not used), for /info. */
  givenAddressPools: readonly PredefinedPool[];
  dns: string[];
  /** --host-gateway-ip: what --add-host name:host-gateway stands for (empty: the default bridge's gateways). */
  hostGatewayIps: string[];
  mtu: number;
  /** --firewall=false (dockerd: --iptables=false): berth writes no nftables rules. */
  firewall: boolean;
  /** --userland-proxy: relay 127.0.0.1 connections to published TCP ports in the daemon (off by default). */
  userlandProxy: boolean;
  /** --br-netfilter: leave bridge-nf-call-iptables as it is (default: berth sets it to 0 in its namespace). */
  brNetfilter: boolean;
  /** Network namespaces kept ready for container starts (0: none). */
  spareSandboxes: number;
  /** --log-driver: the default log driver of new containers. */
  logDriver: string;
  /** --log-opt: its default options. */
  logOpts: Record<string, string>;
  /** --config-file (default /etc/berth/daemon.json; a missing default file is no error). */
  configFile: string;
  /** --config-file was given (then the file must exist). */
  configFileGiven: boolean;
  /** --cluster-store with its --cluster-store-opt: swarms keep their state in this etcd instead of members of berthd's own. */
  clusterStore: ClusterStoreConfig | undefined;
  /** --insecure-registry: host[:port] names and CIDRs spoken to over HTTP or unverified TLS. */
  insecureRegistries: string[];
  /** --registry-mirror: Docker Hub mirrors pulls try first. */
  registryMirrors: string[];
  /** --max-concurrent-downloads, --max-concurrent-uploads, --max-download-attempts (dockerd's 3, 5, 5). */
  maxConcurrentDownloads: number;
  maxConcurrentUploads: number;
  maxDownloadAttempts: number;
}

/** A flag as given on the command line: its long name and value (booleans "true"/"false"). */
export interface GivenFlag {
  name: string;
  value: string;
}

export const USAGE = `Usage: berthd [OPTIONS]

A container networking engine that speaks the Docker Engine API.

Options:
  -H, --host unix:///path          Socket to listen on (default unix:///run/berth/berth.sock)
      --group NAME|GID             Group owning the socket (default root)
      --data-root DIR              Persistent state (default /var/lib/berth)
      --exec-root DIR              Runtime state (default /run/berth)
  -p, --pidfile FILE               Pid file (default <exec-root>/berthd.pid)
  -l, --log-level LEVEL            debug, info, warn, error, fatal (default info)
  -b, --bridge NAME                Existing bridge for the default network ("none" for no default network)
      --bip CIDR                   Address and subnet of the default bridge, e.g. 172.17.0.1/16
      --default-address-pool base=CIDR,size=N   Pool for new networks (repeatable)
      --dns IP                     DNS server for containers (repeatable)
      --host-gateway-ip IP         What --add-host NAME:host-gateway stands for: one IPv4 and one IPv6
                                   address at most (default the default bridge's gateways)
      --mtu N                      Default MTU of networks (default 1500)
      --firewall=false             Write no nftables rules (alias --iptables=false)
      --spare-sandboxes N          Network namespaces kept ready for container starts (default 4)
      --userland-proxy             Serve 127.0.0.1 access to published TCP ports with a relay in the daemon
                                   (default off: the kernel forwards loopback too)
      --br-netfilter               Leave frames bridged between containers going through the inet hooks
                                   (default off: berth sets bridge-nf-call-ip(6)tables=0 in its namespace)
      --log-driver NAME            Default log driver of containers (default json-file)
      --log-opt KEY=VALUE          Default log driver options (repeatable)
      --config-file FILE           Daemon configuration file (default /etc/berth/daemon.json)
      --cluster-store etcd://HOST:PORT[,HOST:PORT…]
                                   Keep swarm state in this existing etcd (default: managers run their own)
      --cluster-store-opt KEY=VALUE
                                   Its TLS: kv.cacertfile, kv.certfile, kv.keyfile (repeatable)
      --insecure-registry HOST[:PORT]|CIDR
                                   A registry reached over HTTP or TLS without verification (repeatable;
                                   loopback always is). CA certificates: certs.d/HOST[:PORT]/ca.crt beside
                                   the configuration file (/etc/berth/certs.d by default)
      --registry-mirror URL        A Docker Hub mirror pulls try first (repeatable)
      --max-concurrent-downloads N Layers downloaded at once (default 3)
      --max-concurrent-uploads N   Layers pushed at once (default 5)
      --max-download-attempts N    Tries of each layer download (default 5)
  -h, --help                       Print this help
`;

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'fatal'];

function boolFlag(flag: string, value: string | undefined): boolean {
  if (value === undefined || value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw invalid(`invalid boolean value "${value}" for ${flag}`);
}

/** Short flags and aliases under their long names. */
const ALIASES: Record<string, string> = { '-H': 'host', '-p': 'pidfile', '-l': 'log-level', '-b': 'bridge', '--iptables': 'firewall' };
const BOOLEAN_FLAGS = new Set(['firewall', 'userland-proxy', 'br-netfilter']);
const VALUE_FLAGS = new Set([
  'host', 'group', 'data-root', 'exec-root', 'pidfile', 'log-level', 'bridge', 'bip', 'default-address-pool', 'dns',
  'host-gateway-ip', 'mtu', 'spare-sandboxes', 'log-driver', 'log-opt', 'config-file', 'cluster-store', 'cluster-store-opt',
  'insecure-registry', 'registry-mirror', 'max-concurrent-downloads', 'max-concurrent-uploads', 'max-download-attempts',
]);

/** The flags of argv in order, under their long names; 'help' for -h. Throws on an unknown flag. */
export function scanDaemonArgs(argv: readonly string[]): GivenFlag[] | 'help' {
  const out: GivenFlag[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (flag === '-h' || flag === '--help') return 'help';
    const name = ALIASES[flag] ?? (flag.startsWith('--') ? flag.slice(2) : '');
    if (BOOLEAN_FLAGS.has(name)) {
      out.push({ name, value: String(boolFlag(flag, eq > 0 ? arg.slice(eq + 1) : undefined)) });
      continue;
    }
    if (!VALUE_FLAGS.has(name)) throw invalid(`unknown flag: ${flag}`);
    let value: string;
    if (eq > 0) value = arg.slice(eq + 1);
    else {
      const v = argv[++i];
      if (v === undefined) throw invalid(`flag needs an argument: ${flag}`);
      value = v;
    }
    out.push({ name, value });
  }
  return out;
}

export function parseDaemonArgs(argv: readonly string[]): DaemonOptions | 'help' {
  const flags = scanDaemonArgs(argv);
  return flags === 'help' ? 'help' : buildDaemonOptions(flags);
}

/** The options the flags make (later ones win, lists add up), checked as dockerd checks them. */
export function buildDaemonOptions(flags: readonly GivenFlag[]): DaemonOptions {
  const opts: DaemonOptions = {
    socketPath: '/run/berth/berth.sock',
    socketGroup: undefined,
    dataRoot: '/var/lib/berth',
    execRoot: '/run/berth',
    pidfile: undefined,
    logLevel: 'info',
    bridge: undefined,
    bip: undefined,
    addressPools: DEFAULT_ADDRESS_POOLS,
    givenAddressPools: [],
    dns: [],
    hostGatewayIps: [],
    mtu: 1500,
    firewall: true,
    userlandProxy: false,
    brNetfilter: false,
    spareSandboxes: 4,
    logDriver: 'json-file',
    logOpts: {},
    configFile: '/etc/berth/daemon.json',
    configFileGiven: false,
    clusterStore: undefined,
    insecureRegistries: [],
    registryMirrors: [],
    maxConcurrentDownloads: 3,
    maxConcurrentUploads: 5,
    maxDownloadAttempts: 5,
  };
  const pools: PredefinedPool[] = [];
  let clusterStore: string | undefined;
  const clusterStoreOpts: Record<string, string> = {};
  for (const { name, value: v } of flags) {
    switch (name) {
      case 'host':
        if (!v.startsWith('unix://')) throw invalid(`only unix sockets are supported: ${v} (no TCP listener, by design)`);
        opts.socketPath = v.slice('unix://'.length);
        break;
      case 'group':
        opts.socketGroup = v;
        break;
      case 'data-root':
        opts.dataRoot = v;
        break;
      case 'exec-root':
        opts.execRoot = v;
        break;
      case 'pidfile':
        opts.pidfile = v;
        break;
      case 'log-level':
        opts.logLevel = parseLogLevel(v);
        break;
      case 'bridge':
        opts.bridge = v;
        break;
      case 'bip': {
        const c = parseCidr(v);
        if (c.family !== 4) throw invalid(`--bip must be an IPv4 address with a prefix length: ${v}`);
        opts.bip = v;
        break;
      }
      case 'default-address-pool':
        pools.push(parseAddressPoolSpec(v));
        break;
      case 'dns':
        parseIp(v);
        opts.dns.push(v);
        break;
      case 'host-gateway-ip': {
        const family = parseIp(v).family;
        if (opts.hostGatewayIps.some((ip) => parseIp(ip).family === family)) {
          throw invalid(`only one IPv${family} host gateway IP address can be specified`);
        }
        opts.hostGatewayIps.push(v);
        break;
      }
      case 'mtu':
        if (!/^\d+$/.test(v) || Number(v) < 68 || Number(v) > 65535) throw invalid(`invalid --mtu value: ${v}`);
        opts.mtu = Number(v);
        break;
      case 'firewall':
        opts.firewall = v === 'true';
        break;
      case 'spare-sandboxes':
        if (!/^\d+$/.test(v) || Number(v) > 64) throw invalid(`invalid --spare-sandboxes value: ${v} (0 to 64)`);
        opts.spareSandboxes = Number(v);
        break;
      case 'userland-proxy':
        opts.userlandProxy = v === 'true';
        break;
      case 'br-netfilter':
        opts.brNetfilter = v === 'true';
        break;
      case 'log-driver':
        opts.logDriver = v;
        break;
      case 'log-opt': {
        // dockerd's MapOpts: a key without "=" gets an empty value.
        const eq = v.indexOf('=');
        if (eq < 0) opts.logOpts[v] = '';
        else opts.logOpts[v.slice(0, eq)] = v.slice(eq + 1);
        break;
      }
      case 'config-file':
        opts.configFile = v;
        opts.configFileGiven = true;
        break;
      case 'cluster-store':
        clusterStore = v;
        break;
      case 'insecure-registry':
        opts.insecureRegistries.push(validateInsecureRegistry(v));
        break;
      case 'registry-mirror':
        opts.registryMirrors.push(validateMirror(v));
        break;
      case 'max-concurrent-downloads':
      case 'max-concurrent-uploads':
      case 'max-download-attempts': {
        if (!/^\d+$/.test(v) || Number(v) < (name === 'max-download-attempts' ? 1 : 0)) throw invalid(`invalid ${name} value: ${v}`);
        const n = Number(v);
        if (name === 'max-concurrent-downloads') opts.maxConcurrentDownloads = Math.max(n, 1);
        else if (name === 'max-concurrent-uploads') opts.maxConcurrentUploads = Math.max(n, 1);
        else opts.maxDownloadAttempts = n;
        break;
      }
      case 'cluster-store-opt': {
        const eq = v.indexOf('=');
        if (eq <= 0) throw invalid(`invalid --cluster-store-opt ${JSON.stringify(v)}: expected KEY=VALUE`);
        clusterStoreOpts[v.slice(0, eq)] = v.slice(eq + 1);
        break;
      }
    }
  }
  if (clusterStore !== undefined) opts.clusterStore = parseClusterStore(clusterStore, clusterStoreOpts);
  else if (Object.keys(clusterStoreOpts).length > 0) throw invalid('--cluster-store-opt needs --cluster-store');
  if (opts.bridge !== undefined && opts.bip !== undefined) {
    throw invalid('You specified -b & --bip, mutually exclusive options. Please specify only one');
  }
  if (pools.length > 0) opts.addressPools = opts.givenAddressPools = pools;
  opts.pidfile ??= `${opts.execRoot}/berthd.pid`;
  return opts;
}

export function parseLogLevel(v: string): LogLevel {
  if (!LOG_LEVELS.includes(v as LogLevel)) throw invalid(`unable to parse logging level: ${v}`);
  return v as LogLevel;
}
