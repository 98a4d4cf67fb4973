/** berthd: wires the store, the network controller and the API server, and runs until signalled. */
import { BuildWorkspaces } from '../engine/build/context.js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { messageOf, invalid } from '../errors.js';
import { linuxKernel } from '../kernel/linux.js';
import { listen } from '../api/server.js';
import { buildRouter } from '../api/index.js';
import { SwarmNode } from '../cluster/swarm.js';
import { followRemoteNames } from '../network/dns/remote.js';
import { BERTH_VERSION } from '../version.js';
import { NetworkController } from '../network/controller.js';
import { firewallBackend } from '../network/firewall/backend.js';
import { insight } from '../insight/service.js';
import { formatCidr } from '../network/ipam/index.js';
import { LocalStore } from '../store/local.js';
import { newId } from '../util/ids.js';
import { EmbeddedDns } from '../network/dns/index.js';
import { dnsHooks } from '../engine/containers/dns.js';
import { serviceLbHooks } from '../engine/containers/service-lb.js';
import { ServiceBalancer } from '../network/services/balancer.js';
import { setServiceNames } from '../network/dns/services.js';
import { ContainerEngine } from '../engine/containers/engine.js';
import { containerDir } from '../engine/containers/facts.js';
import { ExecManager } from '../engine/containers/execs.js';
import { HealthMonitors } from '../engine/containers/health-monitor.js';
import { execProbes } from '../engine/containers/health-probe.js';
import { Registries } from '../engine/images/distribution/index.js';
import { registryOptions } from './registry-options.js';
import { ImageStore } from '../engine/images/index.js';
import { VolumeStore } from '../engine/volumes/store.js';
import { createRuntime } from '../runtime/index.js';
import { buildDaemonOptions, scanDaemonArgs, USAGE, type DaemonOptions, type GivenFlag } from './options.js';
import { withConfigFile } from './config-file.js';
import { reload } from './reload.js';
import { createLogger, type Logger } from './logger.js';
import { LogService } from '../logs/service.js';
import { DRIVER_NAMES } from '../logs/config.js';
import { containerLogging } from '../engine/containers/logging.js';
import { removePidfile, writePidfile } from './pidfile.js';
import { taskContainers } from './task-containers.js';
import { Timings } from '../util/timings.js';
import { EventBus } from '../events/bus.js';
import { DiskUsage } from '../engine/disk-usage.js';
import { Pruner } from '../engine/prune.js';
import { ContainerArchives } from '../engine/containers/archive.js';

export async function main(argv: readonly string[]): Promise<void> {
  let cli: GivenFlag[] | 'help';
  try {
    cli = scanDaemonArgs(argv);
    if (cli !== 'help') buildDaemonOptions(cli);
  } catch (e: unknown) {
    process.stderr.write(`berthd: ${messageOf(e)}\n${USAGE}`);
    process.exit(125);
  }
  if (cli === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  let opts: DaemonOptions;
  try {
    opts = withConfigFile(cli);
  } catch (e: unknown) {
    process.stderr.write(`${new Date().toISOString()} ERROR failed to start daemon: ${messageOf(e)}\n`);
    process.exit(1);
  }
  const log = createLogger(opts.logLevel);
  try {
    await run(opts, log, cli);
  } catch (e: unknown) {
    log.error(`failed to start daemon: ${messageOf(e)}`);
    process.exit(1);
  }
}

async function run(opts: DaemonOptions, log: Logger, cli: readonly GivenFlag[]): Promise<void> {
  for (const dir of [opts.dataRoot, opts.execRoot, path.dirname(opts.socketPath)]) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o711 });
  }
  const pidfile = opts.pidfile!;
  writePidfile(pidfile);
  const store = LocalStore.open(path.join(opts.dataRoot, 'store'));
  const daemonId = await daemonIdentity(store);
  const warn = (m: string): void => log.warn(m);
  // Every part that emits events gets the one bus; GET /events reads it.
  const events = new EventBus();
  // The host's resolv.conf; tests give the daemon another (the embedded resolver reads it once).
  const hostResolvConf = process.env.BERTH_RESOLV_CONF ?? '/etc/resolv.conf';
  const dns = new EmbeddedDns({
    log: { debug: (m) => log.debug(m), warn },
    daemonUpstreams: opts.dns,
    hostResolvConf: readOr(hostResolvConf),
  });
  const networks = await NetworkController.start(store, {
    kernel: linuxKernel,
    driverContext: { defaultMtu: opts.mtu, log: warn },
    bridge: opts.bridge,
    addressPools: opts.addressPools,
    bip: opts.bip,
    sandboxDir: path.join(opts.execRoot, 'netns'),
    // Spares get the resolver's sockets opened ahead of time (a Node start, ~80 ms here).
    sandboxPool: { size: opts.spareSandboxes, onReady: (p) => dns.prepare(p), onDiscard: (p) => dns.discard(p) },
    firewall: firewallBackend({ enabled: opts.firewall, userlandProxy: opts.userlandProxy, nft: linuxKernel.nft, log: warn }),
    brNetfilter: opts.brNetfilter,
    log: warn,
    events,
  });
  const [images, runtime] = await Promise.all([
    ImageStore.open({ dataRoot: opts.dataRoot, events }),
    createRuntime({ execRoot: opts.execRoot, cgroupParent: `berth-${daemonId.slice(0, 12)}` }),
  ]);
  for (const w of images.warnings) log.warn(`images: ${w}`);
  const volumes = new VolumeStore(opts.dataRoot, events);
  const registries = new Registries({ dataRoot: opts.dataRoot, ...registryOptions(opts) });
  const timings = new Timings();
  const logs = new LogService({
    containerDir: (id) => containerDir(opts.dataRoot, id),
    reopenSpool: async (id) => runtime.reopenLog(id),
    log,
    ...(process.env.BERTH_JOURNAL_SOCKET ? { journalSocket: process.env.BERTH_JOURNAL_SOCKET } : {}),
  });
  logs.setDefaults({ type: opts.logDriver, config: opts.logOpts });
  const engine = await ContainerEngine.open({
    store,
    networks,
    images,
    runtime,
    volumes,
    dataRoot: opts.dataRoot,
    daemonDns: opts.dns,
    hostResolvConf,
    hostGatewayIps: opts.hostGatewayIps,
    embeddedDns: true,
    log,
    timings,
    events,
    logging: containerLogging(logs),
  });
  engine.addHooks(dnsHooks(dns, networks, engine));
  // Swarm services: their VIPs in every local namespace on their networks, their names in the DNS.
  const balancer = new ServiceBalancer({
    kernel: linuxKernel,
    localEndpoints: () => networks.sharedEndpoints(),
    sandboxPath: (id) => networks.sandboxPath(id),
    ingressEndpoint: async (previous) => networks.holdIngressEndpoint(previous),
    dropIngressEndpoint: async (place) => networks.dropIngressEndpoint(place),
    derived: (byNetwork) => setServiceNames(dns.directory, byNetwork, (id) => networkName(networks, id)),
    log: warn,
  });
  engine.addHooks(serviceLbHooks(balancer));
  // A remote task's endpoint leaves the VIPs and the mesh before its host's FDB entries go.
  networks.onRemoteDraining(async () => balancer.sync());
  const execs = new ExecManager(engine, runtime, events);
  // Before reconcile: a container still running after a daemon restart resumes its checks.
  const health = new HealthMonitors({
    run: execProbes(execs),
    update: (id, change) => engine.updateRecord(id, async (c) => change(c)),
    events,
    log,
  });
  engine.addHooks(health.hooks());
  await engine.reconcile();
  // The hostname a swarm shows for this node (BERTH_HOSTNAME: the tests' hosts share one machine's).
  const swarm = SwarmNode.open({
    dir: path.join(opts.dataRoot, 'cluster'),
    // Beside the containers' namespaces, under the exec root: a reboot takes it, and the node makes it again.
    dataPathNetns: path.join(opts.execRoot, 'data-path.netns'),
    kernel: linuxKernel,
    log: warn,
    hostname: process.env.BERTH_HOSTNAME ?? os.hostname(),
    engineVersion: BERTH_VERSION,
    ...(opts.clusterStore ? { clusterStore: opts.clusterStore } : {}),
    tasks: taskContainers({ engine, images, registries, networks, events, logs }),
  });
  // In a swarm, its shared networks join the controller's and their remote names the DNS's.
  // A node that leaves disconnects its containers from them first, as dockerd does.
  let stopNames: (() => void) | undefined;
  swarm.onShared(async (shared, leaving) => {
    if (leaving) {
      for (const ep of networks.sharedEndpoints()) await engine.disconnect(ep.containerId, ep.networkId).catch((e: unknown) => warn(`swarm leave: ${messageOf(e)}`));
    }
    stopNames?.();
    stopNames = shared && followRemoteNames(dns, networks.reachableRemotes(shared));
    if (shared) {
      await networks.attachShared(shared);
      await engine.connections.sharedAttached();
      // After the containers' names: the VIP tables stayed in their namespaces meanwhile.
      await balancer.attach(shared);
      return;
    }
    if (leaving) await balancer.leave();
    else balancer.detach();
    await networks.detachShared({ left: leaving });
  });
  swarm.resume();
  const usage = new DiskUsage({
    images,
    volumes,
    containers: () => engine.list(true),
    containerDir: (id) => engine.facts.dir(id),
    volumeUsers: (name) => engine.volumeUsers(name),
  });
  const archives = new ContainerArchives({ engine, images, volumes, events, dataRoot: opts.dataRoot });
  await archives.sweep();
  const builds = new BuildWorkspaces(opts.dataRoot);
  await builds.sweep();
  const router = buildRouter({
    networks,
    engine,
    execs,
    images,
    registries,
    volumes,
    swarm,
    events,
    logs,
    usage,
    pruner: new Pruner({ engine, images, volumes, usage, events, log }),
    archives,
    builds,
    insight: insight({ kernel: linuxKernel, networks, swarm, firewallEnforcing: opts.firewall, containerNames: () => new Map(engine.list(true).map((c) => [c.id, c.spec.name])) }),
    system: {
      id: daemonId,
      dataRoot: opts.dataRoot,
      warnings: () => [],
      timings: () => timings.snapshot(),
      runtimes: [path.basename(runtime.ociRuntime)],
      defaultRuntime: path.basename(runtime.ociRuntime),
      defaultAddressPools: opts.givenAddressPools.map((p) => ({ Base: formatCidr(p.base), Size: p.size })),
      loggingDriver: () => logs.defaultConfig.type,
      logDrivers: DRIVER_NAMES,
    },
  });
  const server = await listen(router, {
    socketPath: opts.socketPath,
    socketGroup: groupId(opts.socketGroup),
    log: (m) => log.error(m),
    ...(opts.logLevel === 'debug' ? { trace: (m: string) => log.debug(m) } : {}),
  });
  log.info(`berthd ${process.pid} listening on unix://${opts.socketPath} (data ${opts.dataRoot}, exec ${opts.execRoot})`);

  const stop = async (signal: string): Promise<void> => {
    log.info(`${signal}: shutting down`);
    server.close();
    server.closeAllConnections();
    health.close();
    try {
      await swarm.close();
      await logs.close();
      await networks.close();
      dns.close();
      await store.close();
    } catch (e: unknown) {
      log.error(`shutdown: ${messageOf(e)}`);
    }
    fs.rmSync(opts.socketPath, { force: true });
    removePidfile(pidfile);
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  process.on('SIGHUP', () => reload(opts, cli, log, logs, registries));
}

/** The daemon's ID, made on first start and kept in the store. */
async function daemonIdentity(store: LocalStore): Promise<string> {
  const id = await store.get('daemon/id');
  if (typeof id === 'string') return id;
  const fresh = newId();
  await store.commit([{ put: 'daemon/id', value: fresh }]);
  return fresh;
}

function groupId(group: string | undefined): number | undefined {
  if (group === undefined) return undefined;
  if (/^\d+$/.test(group)) return Number(group);
  const line = fs.readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.split(':')[0] === group);
  if (!line) throw invalid(`group ${group} not found`);
  return Number(line.split(':')[2]);
}

function networkName(networks: NetworkController, id: string): string | undefined {
  try {
    return networks.find(id).record.name;
  } catch {
    return undefined;
  }
}

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
