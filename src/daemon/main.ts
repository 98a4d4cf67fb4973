/** berthd: wires the store, the network controller and the API server, and runs until signalled. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { messageOf, invalid } from '../errors.js';
import { linuxKernel } from '../kernel/linux.js';
import { listen } from '../api/server.js';
import { buildRouter } from '../api/index.js';
import { InactiveSwarm } from '../cluster/swarm-state.js';
import { NetworkController } from '../network/controller.js';
import { firewallBackend } from '../network/firewall/backend.js';
import { formatCidr } from '../network/ipam/index.js';
import { LocalStore } from '../store/local.js';
import { newId } from '../util/ids.js';
import { createLogger } from './logger.js';
import { EmbeddedDns } from '../network/dns/index.js';
import { dnsHooks } from '../engine/containers/dns.js';
import { portsShape } from '../api/shapes/ports.js';
import { ContainerEngine } from '../engine/containers/engine.js';
import { ExecManager } from '../engine/containers/execs.js';
import { resolveProcess } from '../engine/containers/process.js';
import { ImageStore } from '../engine/images/index.js';
import { VolumeStore } from '../engine/volumes/store.js';
import { createRuntime } from '../runtime/index.js';
import { parseDaemonArgs, USAGE, type DaemonOptions } from './options.js';
import { removePidfile, writePidfile } from './pidfile.js';
import { Timings } from '../util/timings.js';
import { EventBus } from '../events/bus.js';
import { DiskUsage } from '../engine/disk-usage.js';
import { Pruner } from '../engine/prune.js';

export async function main(argv: readonly string[]): Promise<void> {
  let opts: DaemonOptions | 'help';
  try {
    opts = parseDaemonArgs(argv);
  } catch (e: unknown) {
    process.stderr.write(`berthd: ${messageOf(e)}\n${USAGE}`);
    process.exit(125);
  }
  if (opts === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  const log = createLogger(opts.logLevel);
  try {
    await run(opts, log);
  } catch (e: unknown) {
    log.error(`failed to start daemon: ${messageOf(e)}`);
    process.exit(1);
  }
}

async function run(opts: DaemonOptions, log: ReturnType<typeof createLogger>): Promise<void> {
  for (const dir of [opts.dataRoot, opts.execRoot, path.dirname(opts.socketPath)]) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o711 });
  }
  const pidfile = opts.pidfile!;
  writePidfile(pidfile);
  const store = LocalStore.open(path.join(opts.dataRoot, 'store'));
  const daemonId = await daemonIdentity(store);
  // Every part that emits events gets the one bus; GET /events reads it.
  const events = new EventBus();

  const external = opts.bridge !== undefined && opts.bridge !== 'none';
  let bip = opts.bip;
  if (external) {
    const link = await linuxKernel.links.get(opts.bridge!);
    if (!link || link.kind !== 'bridge') {
      throw invalid(`bridge device with non default name ${opts.bridge} must be created manually`);
    }
    bip ??= link.addresses.find((a) => !a.includes(':'));
  }
  let dnsRef: EmbeddedDns | undefined;
  const networks = await NetworkController.start(store, {
    kernel: linuxKernel,
    driverContext: { defaultBridge: { name: external ? opts.bridge! : 'berth0', external }, defaultMtu: opts.mtu, log: (m) => log.warn(m) },
    addressPools: opts.addressPools,
    bip,
    createDefaultBridge: opts.bridge !== 'none',
    sandboxDir: path.join(opts.execRoot, 'netns'),
    // Spares get the resolver's sockets opened ahead of time (a Node start, ~80 ms here).
    sandboxPool: { size: opts.spareSandboxes, onReady: (p) => dnsRef?.prepare(p), onDiscard: (p) => dnsRef?.discard(p) },
    firewall: firewallBackend({ enabled: opts.firewall, userlandProxy: opts.userlandProxy, nft: linuxKernel.nft, log: (m) => log.warn(m) }),
    brNetfilter: opts.brNetfilter,
    log: (m) => log.warn(m),
    events,
  });

  const [images, runtime] = await Promise.all([
    ImageStore.open({ dataRoot: opts.dataRoot, events }),
    createRuntime({ execRoot: opts.execRoot, cgroupParent: `berth-${daemonId.slice(0, 12)}` }),
  ]);
  for (const w of images.warnings) log.warn(`images: ${w}`);
  const volumes = new VolumeStore(opts.dataRoot, events);
  const timings = new Timings();
  const hostGatewayIps = () => (opts.hostGatewayIps.length > 0 ? opts.hostGatewayIps : defaultBridgeGateways(networks));
  // The host's resolv.conf; tests give the daemon another (the embedded resolver reads it once).
  const hostResolvConf = process.env.BERTH_RESOLV_CONF ?? '/etc/resolv.conf';
  const engine = await ContainerEngine.open({
    store,
    networks,
    images,
    runtime,
    volumes,
    dataRoot: opts.dataRoot,
    daemonDns: opts.dns,
    hostResolvConf,
    hostGatewayIps,
    log,
    timings,
    events,
  });
  const dns = new EmbeddedDns({
    log: { debug: (m) => log.debug(m), warn: (m) => log.warn(m) },
    daemonUpstreams: opts.dns,
    hostResolvConf: readOr(hostResolvConf),
  });
  dnsRef = dns;
  engine.addHooks(dnsHooks(dns, networks, engine));
  engine.embeddedDns = true;
  await engine.reconcile();
  const execs = new ExecManager(engine, runtime, (id) => {
    const c = engine.find(id);
    const p = resolveProcess(c.spec, images.resolve(c.spec.image.id).config.config ?? {}, engine.hostnameOf(c));
    return { env: p.env, cwd: p.cwd, user: p.user };
  }, events);

  const usage = new DiskUsage({
    images,
    volumes,
    containers: () => engine.list(true),
    containerDir: (id) => engine.dir(id),
    volumeUsers: (name) => engine.volumeUsers(name),
  });
  const pruner = new Pruner({ engine, images, volumes, usage, events, log });

  const router = buildRouter({
    networks,
    engine,
    execs,
    images,
    volumes,
    swarm: new InactiveSwarm(),
    events,
    usage,
    pruner,
    // As Docker: the ports come from a running container's endpoints on a driver that reports
    // them (the bridge), and releasing the network at exit clears them.
    ports: (c) => {
      const endpoints = networks.endpointsOf(c.id);
      const reported = c.state.status === 'running' && endpoints.some((e) => networks.find(e.networkId).capabilities.reportsPorts);
      return reported ? portsShape(engine.exposedPorts(c), networks.publishedPorts(c.id), endpoints.some((e) => e.ipv6)) : {};
    },
    system: {
      id: daemonId,
      dataRoot: opts.dataRoot,
      counts: () => {
        const all = engine.list(true);
        const running = all.filter((c) => c.state.status === 'running').length;
        return { containers: all.length, running, paused: 0, stopped: all.length - running, images: images.list().length };
      },
      warnings: () => [],
      eventListeners: () => events.listeners,
      timings: () => timings.snapshot(),
      runtimes: [path.basename(runtime.ociRuntime)],
      defaultRuntime: path.basename(runtime.ociRuntime),
      defaultAddressPools: opts.givenAddressPools.map((p) => ({ Base: formatCidr(p.base), Size: p.size })),
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
    try {
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
}

/** dockerd's default host gateway: the default bridge's first IPv4 and first IPv6 gateway; none without it. */
function defaultBridgeGateways(networks: NetworkController): string[] {
  let pools;
  try {
    pools = networks.find('bridge').record.ipam.pools;
  } catch {
    return [];
  }
  const v4 = pools.find((p) => !p.subnet.includes(':'))?.gateway;
  const v6 = pools.find((p) => p.subnet.includes(':'))?.gateway;
  return [v4, v6].filter((ip): ip is string => ip !== undefined && ip !== '');
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

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
