/**
 * The container model: plain data, persisted as container/<id>. The typed fields are
 * what berth acts on; `docker` keeps the client's Config and HostConfig as sent (with
 * defaults filled) so inspect shows them back faithfully.
 */
import type { RunOptions } from '../../runtime/types.js';
import type { Json } from '../../store/kv.js';
import type { HealthConfig } from './health-config.js';
import type { HealthState } from './health.js';
import type { TmpfsConfig } from './tmpfs.js';

export type ContainerId = string & { readonly __brand: 'ContainerId' };

/** How the container's network namespace is made. */
export type NetworkMode =
  | { kind: 'bridge' } // Docker's default network
  | { kind: 'none' }
  | { kind: 'host' }
  | { kind: 'container'; target: string }
  | { kind: 'network'; name: string }; // a user-defined network, by name or id

/** A requested attachment (EndpointsConfig entry / network connect). */
export interface EndpointConfig {
  ipv4?: string;
  ipv6?: string;
  mac?: string;
  aliases: string[];
  /** --link on a user network: "name:alias". */
  links: string[];
  /** Driver options of the endpoint, as given (inspect shows them back). */
  driverOpts?: Record<string, string>;
  /** IPAMConfig was given, even without addresses: inspect shows it, not null. */
  ipamConfig?: boolean;
  /** Set by the swarm's agent for a task's container (never from the API): it may join a swarm network that is not attachable. */
  task?: boolean;
}

export interface ProcessConfig {
  entrypoint: string[];
  cmd: string[];
  env: string[];
  workingDir: string;
  user: string;
  tty: boolean;
  openStdin: boolean;
  stdinOnce: boolean;
}

export interface MountConfig {
  type: 'bind' | 'volume';
  /** Host path (bind) or volume name; '' in a request for a volume berth names at create. */
  source: string;
  destination: string;
  readonly: boolean;
  /** A volume made without a name (Config.Volumes, a mount without a source): `rm -v` removes it. */
  anonymous?: boolean;
  /** Leave a fresh volume empty instead of filling it from the image (nocopy; --volumes-from). */
  noCopy?: boolean;
  /** --mount's volume-opt and volume-label: what a volume missing at create is made with (an existing one is kept as it is). */
  create?: { options?: Record<string, string>; labels?: Record<string, string> };
}

/** A published port (HostConfig.PortBindings entry), as given. */
export interface PortBinding {
  /** "80/tcp" */
  port: string;
  hostIp: string;
  hostPort: string;
}

export interface ContainerSpec {
  name: string;
  image: { ref: string; id: string };
  hostname: string;
  domainname: string;
  process: ProcessConfig;
  labels: Record<string, string>;
  networkMode: NetworkMode;
  /** Networks to join at start, keyed by the name the user gave, in order. */
  networks: Record<string, EndpointConfig>;
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  extraHosts: string[];
  /** Legacy --link on the default bridge: "name:alias". */
  links: string[];
  /**
   * Every mount, decided at create: --volumes-from, binds, --mount, anonymous volumes.
   * Volumes have their names by then.
   */
  mounts: MountConfig[];
  volumesFrom: string[];
  /** --tmpfs mounts, options merged (absent in records written before them). */
  tmpfs?: TmpfsConfig[];
  /** --read-only: the image's filesystem is mounted read-only; mounts stay as they are. */
  readonlyRootfs?: boolean;
  /** Config.Volumes (the user's and the image's): paths given an anonymous volume unless mounted otherwise. */
  volumes: string[];
  exposedPorts: string[];
  portBindings: PortBinding[];
  publishAllPorts: boolean;
  autoRemove: boolean;
  privileged: boolean;
  capAdd: string[];
  capDrop: string[];
  stopSignal: string;
  stopTimeout: number;
  restartPolicy: { name: 'no' | 'always' | 'on-failure' | 'unless-stopped'; maximumRetryCount: number };
  /** The log driver, settled at create (the daemon's default when none was named). */
  logDriver: string;
  /** Its options, the daemon's defaults merged in (absent in records written before them). */
  logOptions?: Record<string, string>;
  /**
   * What the runtime applies beyond the above: cgroup limits, ulimits, devices, groups,
   * namespaces, security (absent in records written before them: Docker's defaults).
   */
  options?: RunOptions;
  /** The health check, the image's merged in at create (absent: none, and in records written before checks ran). */
  healthcheck?: HealthConfig;
}

/** 'restarting': exited, and its restart policy will start it again after a wait. */
export type ContainerStatus = 'created' | 'running' | 'restarting' | 'exited' | 'dead' | 'removing';

export interface ContainerState {
  status: ContainerStatus;
  /** A running container whose processes are frozen (docker pause); Docker shows it as "paused". */
  paused?: boolean;
  pid: number;
  exitCode: number;
  error: string;
  startedAt: string;
  finishedAt: string;
  /** State.Health: set at the first start of a container with a health check, kept across its runs. */
  health?: HealthState;
}

export interface ContainerRecord {
  id: ContainerId;
  created: string;
  spec: ContainerSpec;
  state: ContainerState;
  restartCount: number;
  /** The client's Config and HostConfig (Docker JSON), for inspect. */
  docker: { config: Json; hostConfig: Json };
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';
