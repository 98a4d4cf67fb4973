/** /_ping, /version, /info. */
import * as os from 'node:os';
import type { SwarmDetails, SwarmState } from '../../cluster/swarm-state.js';
import type { TimingSeries } from '../../util/timings.js';
import type { Router } from '../router.js';
import { API_VERSION, MIN_API_VERSION } from '../router.js';
import { swarmInfoShape } from '../shapes/swarm.js';
import { swarmHeader } from './swarm.js';

import { BERTH_VERSION } from '../../version.js';

export { BERTH_VERSION };

export interface SystemInfo {
  id: string;
  dataRoot: string;
  counts(): { containers: number; running: number; paused: number; stopped: number; images: number };
  warnings(): string[];
  /** Clients following GET /events now. */
  eventListeners(): number;
  runtimes: string[];
  defaultRuntime: string;
  /** --default-address-pool as given (Docker shows none when the flag is not used). */
  defaultAddressPools: { Base: string; Size: number }[];
  /** berth's own measurements (GET /berth/timings). */
  timings(): Record<string, TimingSeries>;
  /** The daemon's default log driver now (--log-driver; a SIGHUP may change it). */
  loggingDriver(): string;
  /** The log drivers there are. */
  logDrivers: readonly string[];
}

export function systemRoutes(router: Router, info: SystemInfo, swarm: SwarmState): void {
  const ping = async () => ({
    status: 200,
    body: 'OK',
    headers: { 'Cache-Control': 'no-cache, no-store, must-revalidate', Pragma: 'no-cache', 'Builder-Version': '1' },
  });
  router
    .add('GET', '/_ping', async (req) => {
      await req.drain();
      const reply = await ping();
      req.res.writeHead(200, {
        ...reply.headers,
        'Api-Version': API_VERSION,
        'Docker-Experimental': 'false',
        Ostype: 'linux',
        Server: 'berth',
        Swarm: swarmHeader(swarm.status()),
        'Content-Type': 'text/plain; charset=utf-8',
      });
      req.res.end(req.method === 'HEAD' ? undefined : 'OK');
      return { handled: true };
    })
    .add('GET', '/version', async () => ({ status: 200, body: versionBody() }))
    .add('GET', '/info', async () => {
      // A cluster store that does not answer does not keep /info from answering.
      const details = await swarm.details().catch(() => undefined);
      return { status: 200, body: infoBody(info, swarm, details) };
    })
    // Not Docker's: durations measured inside berthd, for benchmarks (util/timings.ts).
    .add('GET', '/berth/timings', async () => ({ status: 200, body: info.timings() }));
}

function versionBody(): Record<string, unknown> {
  const common = {
    Version: BERTH_VERSION,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: 'berth',
    GoVersion: `node${process.versions.node}`,
    Os: 'linux',
    Arch: goArch(),
    KernelVersion: os.release(),
    BuildTime: '',
  };
  return {
    Platform: { Name: 'berth' },
    Components: [{ Name: 'Engine', Version: BERTH_VERSION, Details: { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: 'linux', Arch: goArch(), KernelVersion: os.release() } }],
    ...common,
  };
}

function infoBody(info: SystemInfo, swarm: SwarmState, details: SwarmDetails | undefined): Record<string, unknown> {
  const c = info.counts();
  return {
    ID: info.id,
    Containers: c.containers,
    ContainersRunning: c.running,
    ContainersPaused: c.paused,
    ContainersStopped: c.stopped,
    Images: c.images,
    Driver: 'overlay2',
    DriverStatus: [['Backing Filesystem', 'extfs']],
    Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'ipvlan', 'macvlan', 'null'], Authorization: null, Log: [...info.logDrivers] },
    MemoryLimit: true,
    SwapLimit: false,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: true,
    PidsLimit: true,
    IPv4Forwarding: true,
    Debug: false,
    NFd: 0,
    OomKillDisable: false,
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: info.loggingDriver(),
    CgroupDriver: 'cgroupfs',
    CgroupVersion: '1',
    NEventsListener: info.eventListeners(),
    KernelVersion: os.release(),
    OperatingSystem: 'berth on Linux',
    OSVersion: '',
    OSType: 'linux',
    Architecture: os.machine(),
    IndexServerAddress: '',
    RegistryConfig: { IndexConfigs: {}, InsecureRegistryCIDRs: [], Mirrors: [] },
    NCPU: os.cpus().length,
    MemTotal: os.totalmem(),
    GenericResources: null,
    DockerRootDir: info.dataRoot,
    HttpProxy: '',
    HttpsProxy: '',
    NoProxy: '',
    Name: os.hostname(),
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: BERTH_VERSION,
    Runtimes: Object.fromEntries(info.runtimes.map((r) => [r, { path: r }])),
    DefaultRuntime: info.defaultRuntime,
    Swarm: swarmInfoShape(swarm.status(), details),
    LiveRestoreEnabled: true,
    Isolation: '',
    InitBinary: '',
    ContainerdCommit: { ID: '' },
    RuncCommit: { ID: '' },
    InitCommit: { ID: '' },
    SecurityOptions: ['name=seccomp,profile=unconfined'],
    Warnings: info.warnings(),
    ...(info.defaultAddressPools.length > 0 && { DefaultAddressPools: info.defaultAddressPools }),
  };
}

function goArch(): string {
  const a = os.arch();
  return a === 'x64' ? 'amd64' : a === 'ia32' ? '386' : a;
}
