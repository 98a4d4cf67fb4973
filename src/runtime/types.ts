/**
 * The runtime's vocabulary: what the engine asks to run (RunSpec, ExecSpec) and what it
 * gets back (states, stdio sessions, log entries). Plain data; validated by the engine.
 */
import type { Readable, Writable } from 'node:stream';
import type { CgroupFeatures } from '../kernel/cgroup.js';

export interface ProcessUser {
  uid: number;
  gid: number;
  additionalGids?: number[];
}

export interface ProcessSpec {
  args: string[];
  /** KEY=value entries, complete (the runtime adds nothing). */
  env: string[];
  cwd: string;
  /** Give the process a pseudo-terminal (docker -t). stderr is then merged into it. */
  tty: boolean;
  /** Keep a stdin for the process that attach clients can write to (docker -i). */
  openStdin: boolean;
  /**
   * Close the process's stdin when an attached client disconnects (Docker's StdinOnce,
   * set by `docker run -i` without -d). Only meaningful with openStdin and without a
   * tty: with one, a client leaving (Ctrl-P Ctrl-Q) only detaches, as in Docker.
   */
  stdinOnce: boolean;
  /**
   * Docker's user spec ("name", "uid", "name:group", "uid:gid"), looked up in the
   * container's own /etc/passwd and /etc/group once its root file system is mounted
   * (users.ts). Empty or absent: root, with root's groups.
   */
  user?: string;
}

export type NetworkAttachment =
  /** Join this existing network namespace (a bind-mounted netns file or /proc/<pid>/ns/net). */
  | { kind: 'netns'; path: string }
  /** Share the daemon's network namespace (docker --network host). */
  | { kind: 'host' }
  /** A fresh namespace of the container's own, with only lo. */
  | { kind: 'new' };

export interface MountSpec {
  source: string;
  destination: string;
  readonly: boolean;
}

/** A fresh tmpfs (docker --tmpfs). */
export interface TmpfsSpec {
  destination: string;
  /** mount(8) options, Docker's defaults included. */
  options: string[];
}

export interface RunSpec {
  /** 64-hex container id; also the runc container id. */
  id: string;
  /** Human name for conmon's logs; defaults to the id. */
  name?: string;
  rootfs: {
    /** Read-only layer directories, lowest first. */
    layers: string[];
    upper: string;
    work: string;
    /** Mount point of the union; becomes the container's /. */
    merged: string;
    /** docker --read-only */
    readonly?: boolean;
  };
  process: ProcessSpec;
  hostname: string;
  domainname?: string;
  network: NetworkAttachment;
  /** Bind mounts: volumes, -v binds, and the per-container /etc/hosts, hostname, resolv.conf. */
  mounts: MountSpec[];
  /** Ordered with `mounts` by depth, so a bind inside a tmpfs lands on it. */
  tmpfs?: TmpfsSpec[];
  privileged: boolean;
  /** Capability names as Docker takes them: "NET_ADMIN", "CAP_NET_ADMIN" or "ALL". */
  capAdd: string[];
  capDrop: string[];
  /** Docker's settings beyond the basics: limits, devices, groups, namespaces, security. */
  options?: RunOptions;
  /** k8s-file log conmon appends the container's output to; null keeps no log. */
  logPath: string | null;
  /** Bytes conmon lets that file reach before it starts it afresh (none: no limit). */
  logSizeMax?: number;
}

/**
 * Docker's per-container settings the OCI config carries beyond the process, mounts
 * and network, validated by the engine. Every field is optional: absent is Docker's
 * default.
 */
export interface RunOptions {
  /** cgroup limits (linux.resources). */
  resources?: ResourceLimits;
  /** Host devices made in the container (docker --device). */
  devices?: DeviceMapping[];
  /** Extra device cgroup rules, "c 7:128 rwm" (docker --device-cgroup-rule), already checked. */
  deviceCgroupRules?: string[];
  /** Resource limits of the process (docker --ulimit); one nofile replaces the default. */
  ulimits?: Ulimit[];
  /** Supplementary groups (docker --group-add): gids, or names looked up in the container's /etc/group at start. */
  groupAdd?: string[];
  /** /dev/shm's size in bytes (default 64 MiB). */
  shmSize?: number;
  /** The process's OOM score adjustment, -1000 to 1000 (docker --oom-score-adj). */
  oomScoreAdj?: number;
  /** Run an init (tini) as PID 1 that reaps zombies and forwards signals (docker --init). */
  init?: boolean;
  /** IPC namespace: the container's own (default), the host's (with its /dev/shm), or own without /dev/shm. */
  ipc?: 'private' | 'host' | 'none';
  /** Share the host's PID namespace (docker --pid host). */
  pidHost?: boolean;
  /** A cgroup namespace of its own (docker --cgroupns private); by default the host's. */
  cgroupnsPrivate?: boolean;
  /** The process cannot gain privileges (setuid binaries) (--security-opt no-new-privileges). */
  noNewPrivileges?: boolean;
  /** Paths masked in place of Docker's defaults ([] for none). */
  maskedPaths?: string[];
  /** Paths made read-only in place of Docker's defaults ([] for none). */
  readonlyPaths?: string[];
  /** Namespaced sysctls (docker --sysctl), over berth's own. */
  sysctls?: Record<string, string>;
  /** OCI annotations (docker --annotation). */
  annotations?: Record<string, string>;
  /** The tty's size from the start, so the first output is laid out right. */
  consoleSize?: WindowSize;
}

export interface ResourceLimits {
  /** Memory limit in bytes (-m). */
  memory?: number;
  /** Soft limit in bytes (--memory-reservation). */
  memoryReservation?: number;
  /** Memory plus swap in bytes; -1 for unlimited swap (--memory-swap). */
  memorySwap?: number;
  /** 0 to 100 (--memory-swappiness). */
  memorySwappiness?: number;
  /** Kernel TCP buffer limit in bytes (cgroup v1). */
  kernelMemoryTcp?: number;
  /** The OOM killer leaves the container alone (--oom-kill-disable). */
  oomKillDisable?: boolean;
  /** Relative CPU weight (-c). */
  cpuShares?: number;
  /** CFS quota in microseconds per period. */
  cpuQuota?: number;
  /** CFS period in microseconds. */
  cpuPeriod?: number;
  /** CPUs it may run on, "0-2,4". */
  cpusetCpus?: string;
  /** Memory nodes it may use, "0". */
  cpusetMems?: string;
  /** Maximum number of tasks. */
  pidsLimit?: number;
  /** Relative block I/O weight, 10 to 1000 (docker update --blkio-weight, where the host's cgroups have it). */
  blkioWeight?: number;
  /** Per-device read throttle in bytes per second; the devices are host paths, looked up at start. */
  blkioReadBps?: DeviceRate[];
  /** Per-device write throttle in bytes per second. */
  blkioWriteBps?: DeviceRate[];
  /** Per-device read throttle in operations per second. */
  blkioReadIops?: DeviceRate[];
  /** Per-device write throttle in operations per second. */
  blkioWriteIops?: DeviceRate[];
}

export interface DeviceRate {
  /** A block device on the host. */
  path: string;
  /** Bytes or operations per second. */
  rate: number;
}

export interface DeviceMapping {
  /** A device node, or a directory whose device nodes are all taken. */
  pathOnHost: string;
  pathInContainer: string;
  /** Any of "rwm". */
  permissions: string;
}

export interface Ulimit {
  /** "nofile", "nproc" … (RLIMIT_ without the prefix, lower case). */
  name: string;
  /** The limit the process starts with. */
  soft: number;
  /** The ceiling it may raise the soft limit to. */
  hard: number;
}

export interface ExecSpec {
  args: string[];
  env: string[];
  cwd: string;
  tty: boolean;
  /** Give the process a stdin (docker exec -i). Without it stdin is /dev/null. */
  stdin: boolean;
  /** Docker's user spec, looked up in the container's files; absent: the container's own user. */
  user?: string;
  /** docker exec --privileged: all capabilities. */
  privileged?: boolean;
  /** The pty's size from the start (with tty), so the first `stty size` already sees it. */
  consoleSize?: WindowSize;
}

export type ContainerStatus = 'created' | 'running' | 'paused' | 'stopped' | 'missing';

export interface ContainerState {
  status: ContainerStatus;
  /** Init pid on the host, while created/running/paused. */
  pid?: number;
  /** Set once conmon has recorded the exit (255 if the exit was lost with conmon). */
  exitCode?: number;
}

export interface WindowSize {
  rows: number;
  cols: number;
}

/**
 * A live connection to a process's stdio. With a tty everything arrives on stdout
 * and stderr ends at once. Output streams end when the process exits or on close().
 */
export interface StdioSession {
  /** Writes go to the process's stdin; end() closes it. Null without stdin. */
  stdin: Writable | null;
  stdout: Readable;
  stderr: Readable;
  /** Set the pty's window size. A no-op without a tty. */
  resize(size: WindowSize): Promise<void>;
  /** Disconnect; the process keeps running. Idempotent. */
  close(): void;
}

export interface ExecExit {
  /** The process's exit status (128+n when killed by signal n). */
  exitCode: number;
  /**
   * Set when the process never started (the runtime's message); exitCode is then 126
   * or 127. Without a tty the runtime has already printed the message on stderr.
   */
  error?: string;
}

export interface ExecSession extends StdioSession {
  /** Host pid of the exec'd process. */
  pid: number;
  /** Resolves when the process has exited and its output has been read. Never rejects. */
  exit: Promise<ExecExit>;
  /** Signal the exec'd process. */
  kill(signal: NodeJS.Signals): void;
}

export interface LogEntry {
  stream: 'stdout' | 'stderr';
  /** The bytes as written, including the trailing newline of a complete line. */
  line: Buffer;
  /** RFC 3339 with nanoseconds, UTC ("2024-05-01T10:00:00.123456789Z"). */
  time: string;
  /** Milliseconds since the epoch (for since/until filters). */
  timeMs: number;
}

export interface LogOptions {
  /** Keep reading as the container writes; ends when the container has exited. */
  follow?: boolean;
  /** Only the last n entries of what is already there. */
  tail?: number;
  /** Only entries at or after / before these epoch milliseconds. */
  sinceMs?: number;
  untilMs?: number;
  /** Abort a follow (the iterator then ends). */
  signal?: AbortSignal;
}

/**
 * cgroup limits a running container takes live (docker update): the container's whole
 * set after the change, since runc keeps only what each update names. Absent: not
 * limited (never set). Units as Docker's HostConfig: bytes, microseconds.
 */
export interface ResourceUpdate {
  memory?: number;
  memoryReservation?: number;
  /** Memory plus swap; -1 for unlimited swap. */
  memorySwap?: number;
  cpuShares?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  /** -1: unlimited. */
  pidsLimit?: number;
  /** 10 to 1000. */
  blkioWeight?: number;
}

/** A container's cgroup counters, read from its cgroup files (v1 or v2). */
export interface CgroupStats {
  cpu: {
    /** Nanoseconds of CPU time, all CPUs. */
    total: number;
    /** Per CPU, nanoseconds (cgroup v1 only). */
    perCpu?: number[];
    kernel: number;
    user: number;
    periods: number;
    throttledPeriods: number;
    /** Nanoseconds. */
    throttledTime: number;
  };
  memory: {
    usage?: number;
    maxUsage?: number;
    /** Bytes; a huge number when not limited (the caller caps it at the machine's memory). */
    limit?: number;
    failcnt?: number;
    /** memory.stat, under Docker's keys for the cgroup version. */
    stats: Record<string, number>;
  };
  pids: { current: number; limit: number };
  /** Docker's blkio_stats lists, by their JSON names (io_service_bytes_recursive …). */
  blkio: Record<string, BlkioEntry[]>;
}

export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

export type { CgroupFeatures } from '../kernel/cgroup.js';

export interface Runtime {
  /** Which OCI runtime binary is used ("runc" or "crun" path). */
  readonly ociRuntime: string;
  /** What the host's cgroups can limit. */
  readonly cgroupFeatures: CgroupFeatures;
  /**
   * Mount the rootfs, write the bundle and create the container under conmon. The
   * process exists but has not run yet: attach now to miss no output, then start().
   * On failure everything done so far is undone. Conflict if the id exists.
   */
  create(spec: RunSpec): Promise<{ pid: number }>;
  /** Run the created container's process. Conflict unless it is in state 'created'. */
  start(id: string): Promise<void>;
  /** Send a signal to the init process (name like "SIGTERM" or "TERM", or a number). Conflict if not running. */
  kill(id: string, signal: string | number): Promise<void>;
  /**
   * Resolve with the exit code once the container has exited (immediately if it has).
   * Works across daemon restarts: read from conmon's exit file. NotFound if unknown.
   */
  wait(id: string, signal?: AbortSignal): Promise<number>;
  /** When the exit was recorded (RFC 3339), read before delete(): true also for an exit while no daemon ran. */
  exitedAt(id: string): Promise<string | undefined>;
  state(id: string): Promise<ContainerState>;
  /** Ids of all containers with runtime state (for reconciliation after a restart). */
  list(): Promise<string[]>;
  /**
   * Remove everything the runtime holds for the container: kill it if still running,
   * runc state, conmon, the rootfs mount, the bundle. Idempotent; keeps going on errors
   * and throws one error listing all failures at the end. Does not touch the log file.
   */
  delete(id: string): Promise<void>;
  /** Connect to the container's stdio through conmon. `stdin` only if created with openStdin. */
  attach(id: string, opts: { stdin: boolean }): Promise<StdioSession>;
  /** Resize the container's tty (no-op without one). */
  resize(id: string, size: WindowSize): Promise<void>;
  /**
   * Look up Docker's user spec in the container's /etc/passwd and /etc/group, as its
   * start or an exec would (exec create checks it early, as dockerd does).
   * InvalidParameter, in runc's words, when a name has no entry; NotFound if unknown.
   */
  resolveUser(id: string, user: string): Promise<ProcessUser>;
  /** Run another process in the running container. Conflict if not running. */
  exec(id: string, spec: ExecSpec): Promise<ExecSession>;
  /**
   * Ask conmon to start its log file afresh (it renames an empty one over it): the
   * daemon does, once it has taken what the old one holds. Conflict if conmon is gone.
   */
  reopenLog(id: string): Promise<void>;
  /** The container's logged output (see readLogs). NotFound if it has no runtime state. */
  logs(id: string, opts?: LogOptions): AsyncIterable<LogEntry>;
  /** Freeze all its processes (docker pause). Conflict if not running. */
  pause(id: string): Promise<void>;
  /** Thaw them (docker unpause). */
  resume(id: string): Promise<void>;
  /** Apply cgroup limits to the running container (docker update). */
  update(id: string, resources: ResourceUpdate): Promise<void>;
  /** Host pids of every process in its cgroup (docker top). */
  pids(id: string): Promise<number[]>;
  /** Its cgroup's counters (docker stats). */
  stats(id: string): Promise<CgroupStats>;
}
