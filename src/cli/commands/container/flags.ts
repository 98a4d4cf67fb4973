/**
 * The flags `create` and `run` share (docker's addFlags), and reading them into typed
 * ContainerOptions once, so config.ts never touches the flag table.
 */
import type { FlagSpec, ParsedFlags } from '../../args.js';
import { validateDnsSearch, validateEnv, validateExtraHost, validateIPAddress, validateLabel, validateLink } from '../../opts.js';
import { parseMount } from './mounts.js';
import { validateNetworkFlag } from './networks.js';

function validateAttach(v: string): string {
  const s = v.toLowerCase();
  if (!['stdin', 'stdout', 'stderr'].includes(s)) throw new Error('valid streams are STDIN, STDOUT and STDERR');
  return s;
}

function validateMount(v: string): string {
  parseMount(v, '/');
  return v;
}

/** Flags of `create` and `run` that describe the container. */
export const CONTAINER_FLAGS: readonly FlagSpec[] = [
  { name: 'add-host', type: 'list', help: 'Add a custom host-to-IP mapping (host:ip)', validate: validateExtraHost },
  { name: 'attach', short: 'a', type: 'list', help: 'Attach to STDIN, STDOUT or STDERR', validate: validateAttach },
  { name: 'cap-add', type: 'list', help: 'Add Linux capabilities' },
  { name: 'cap-drop', type: 'list', help: 'Drop Linux capabilities' },
  { name: 'cgroupns', type: 'string', help: 'Cgroup namespace to use (host|private)' },
  { name: 'dns', type: 'list', help: 'Set custom DNS servers', validate: validateIPAddress },
  { name: 'dns-opt', type: 'list', help: 'Set DNS options', hidden: true },
  { name: 'dns-option', type: 'list', help: 'Set DNS options' },
  { name: 'dns-search', type: 'list', help: 'Set custom DNS search domains', validate: validateDnsSearch },
  { name: 'domainname', type: 'string', help: 'Container NIS domain name' },
  { name: 'entrypoint', type: 'string', help: 'Overwrite the default ENTRYPOINT of the image' },
  { name: 'env', short: 'e', type: 'list', help: 'Set environment variables', validate: validateEnv },
  { name: 'env-file', type: 'list', help: 'Read in a file of environment variables' },
  { name: 'expose', type: 'list', help: 'Expose a port or a range of ports' },
  { name: 'group-add', type: 'list', help: 'Add additional groups to join' },
  { name: 'hostname', short: 'h', type: 'string', help: 'Container host name' },
  { name: 'init', type: 'bool', help: 'Run an init inside the container that forwards signals and reaps processes' },
  { name: 'interactive', short: 'i', type: 'bool', help: 'Keep STDIN open even if not attached' },
  { name: 'ip', type: 'string', help: 'IPv4 address (e.g., 172.30.100.104)' },
  { name: 'ip6', type: 'string', help: 'IPv6 address (e.g., 2001:db8::33)' },
  { name: 'ipc', type: 'string', help: 'IPC mode to use' },
  { name: 'label', short: 'l', type: 'list', help: 'Set meta data on a container', validate: validateLabel },
  { name: 'label-file', type: 'list', help: 'Read in a line delimited file of labels' },
  { name: 'link', type: 'list', help: 'Add link to another container', validate: validateLink },
  { name: 'link-local-ip', type: 'list', help: 'Container IPv4/IPv6 link-local addresses' },
  { name: 'log-driver', type: 'string', help: 'Logging driver for the container' },
  { name: 'log-opt', type: 'list', help: 'Log driver options' },
  { name: 'mac-address', type: 'string', help: 'Container MAC address (e.g., 92:d0:c6:0a:29:33)' },
  { name: 'mount', type: 'list', valueName: 'mount', help: 'Attach a filesystem mount to the container', validate: validateMount },
  { name: 'net', type: 'list', valueName: 'network', help: 'Connect a container to a network', hidden: true, validate: validateNetworkFlag },
  { name: 'net-alias', type: 'list', help: 'Add network-scoped alias for the container', hidden: true },
  { name: 'network', type: 'list', valueName: 'network', help: 'Connect a container to a network', validate: validateNetworkFlag },
  { name: 'network-alias', type: 'list', help: 'Add network-scoped alias for the container' },
  { name: 'pid', type: 'string', help: 'PID namespace to use' },
  { name: 'privileged', type: 'bool', help: 'Give extended privileges to this container' },
  { name: 'publish', short: 'p', type: 'list', help: "Publish a container's port(s) to the host" },
  { name: 'publish-all', short: 'P', type: 'bool', help: 'Publish all exposed ports to random ports' },
  { name: 'read-only', type: 'bool', help: "Mount the container's root filesystem as read only" },
  { name: 'restart', type: 'string', default: 'no', help: 'Restart policy to apply when a container exits' },
  { name: 'rm', type: 'bool', help: 'Automatically remove the container and its associated anonymous volumes when it exits' },
  { name: 'runtime', type: 'string', help: 'Runtime to use for this container' },
  { name: 'security-opt', type: 'list', help: 'Security Options' },
  { name: 'stop-signal', type: 'string', help: 'Signal to stop the container' },
  { name: 'stop-timeout', type: 'int', help: 'Timeout (in seconds) to stop a container' },
  { name: 'sysctl', type: 'list', valueName: 'map', help: 'Sysctl options' },
  { name: 'tmpfs', type: 'list', help: 'Mount a tmpfs directory' },
  { name: 'tty', short: 't', type: 'bool', help: 'Allocate a pseudo-TTY' },
  { name: 'user', short: 'u', type: 'string', help: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  { name: 'userns', type: 'string', help: 'User namespace to use' },
  { name: 'uts', type: 'string', help: 'UTS namespace to use' },
  { name: 'volume', short: 'v', type: 'list', help: 'Bind mount a volume' },
  { name: 'volume-driver', type: 'string', help: 'Optional volume driver for the container' },
  { name: 'volumes-from', type: 'list', help: 'Mount volumes from the specified container(s)' },
  { name: 'workdir', short: 'w', type: 'string', help: 'Working directory inside the container' },
];

/** Flags of `create` and `run` about creating rather than the container itself. */
export const CREATE_FLAGS: readonly FlagSpec[] = [
  { name: 'name', type: 'string', help: 'Assign a name to the container' },
  { name: 'platform', type: 'string', help: 'Set platform if server is multi-platform capable' },
  { name: 'pull', type: 'string', default: 'missing', help: 'Pull image before running ("always", "missing", "never")' },
  { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress the pull output' },
];

/** Everything a create request is built from, read once from the flags. */
export interface ContainerOptions {
  readonly image: string;
  readonly args: readonly string[];
  readonly attach: readonly string[];
  readonly interactive: boolean;
  readonly tty: boolean;
  readonly env: readonly string[];
  readonly envFiles: readonly string[];
  readonly labels: readonly string[];
  readonly labelFiles: readonly string[];
  readonly workdir: string;
  /** undefined: not given; '': `--entrypoint=` (reset the image's). */
  readonly entrypoint: string | undefined;
  readonly user: string;
  readonly hostname: string;
  readonly domainname: string;
  readonly volumes: readonly string[];
  readonly mounts: readonly string[];
  readonly volumesFrom: readonly string[];
  readonly volumeDriver: string;
  readonly tmpfs: readonly string[];
  readonly networks: readonly string[];
  readonly ip: string;
  readonly ip6: string;
  readonly macAddress: string;
  readonly aliases: readonly string[];
  readonly links: readonly string[];
  readonly linkLocalIps: readonly string[];
  readonly dns: readonly string[];
  readonly dnsSearch: readonly string[];
  readonly dnsOptions: readonly string[];
  readonly extraHosts: readonly string[];
  readonly publish: readonly string[];
  readonly publishAll: boolean;
  readonly expose: readonly string[];
  readonly capAdd: readonly string[];
  readonly capDrop: readonly string[];
  readonly privileged: boolean;
  readonly securityOpt: readonly string[];
  readonly groupAdd: readonly string[];
  readonly restart: string;
  readonly autoRemove: boolean;
  readonly logDriver: string;
  readonly logOpts: readonly string[];
  readonly stopSignal: string;
  readonly stopTimeout: number | undefined;
  readonly readOnly: boolean;
  readonly init: boolean | undefined;
  readonly sysctls: readonly string[];
  readonly pid: string;
  readonly ipc: string;
  readonly uts: string;
  readonly userns: string;
  readonly cgroupns: string;
  readonly runtime: string;
}

export function readContainerOptions(flags: ParsedFlags, args: readonly string[]): ContainerOptions {
  return {
    image: args[0] ?? '',
    args: args.slice(1),
    attach: flags.list('attach'),
    interactive: flags.bool('interactive'),
    tty: flags.bool('tty'),
    env: flags.list('env'),
    envFiles: flags.list('env-file'),
    labels: flags.list('label'),
    labelFiles: flags.list('label-file'),
    workdir: flags.string('workdir'),
    entrypoint: flags.optString('entrypoint'),
    user: flags.string('user'),
    hostname: flags.string('hostname'),
    domainname: flags.string('domainname'),
    volumes: flags.list('volume'),
    mounts: flags.list('mount'),
    volumesFrom: flags.list('volumes-from'),
    volumeDriver: flags.string('volume-driver'),
    tmpfs: flags.list('tmpfs'),
    networks: [...flags.list('network'), ...flags.list('net')],
    ip: flags.string('ip'),
    ip6: flags.string('ip6'),
    macAddress: flags.string('mac-address'),
    aliases: [...flags.list('network-alias'), ...flags.list('net-alias')],
    links: flags.list('link'),
    linkLocalIps: flags.list('link-local-ip'),
    dns: flags.list('dns'),
    dnsSearch: flags.list('dns-search'),
    dnsOptions: [...flags.list('dns-option'), ...flags.list('dns-opt')],
    extraHosts: flags.list('add-host'),
    publish: flags.list('publish'),
    publishAll: flags.bool('publish-all'),
    expose: flags.list('expose'),
    capAdd: flags.list('cap-add'),
    capDrop: flags.list('cap-drop'),
    privileged: flags.bool('privileged'),
    securityOpt: flags.list('security-opt'),
    groupAdd: flags.list('group-add'),
    restart: flags.string('restart'),
    autoRemove: flags.bool('rm'),
    logDriver: flags.string('log-driver'),
    logOpts: flags.list('log-opt'),
    stopSignal: flags.string('stop-signal'),
    stopTimeout: flags.changed('stop-timeout') ? flags.int('stop-timeout') : undefined,
    readOnly: flags.bool('read-only'),
    init: flags.changed('init') ? flags.bool('init') : undefined,
    sysctls: flags.list('sysctl'),
    pid: flags.string('pid'),
    ipc: flags.string('ipc'),
    uts: flags.string('uts'),
    userns: flags.string('userns'),
    cgroupns: flags.string('cgroupns'),
    runtime: flags.string('runtime'),
  };
}
