/**
 * The container engine: the lifecycle of containers (create, start, stop, kill,
 * restart, remove, wait), their /etc files and mounts, and their networks through
 * the network controller. One canonical record per container, persisted on every
 * change; operations on one container are serialised.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { conflict, invalid, isBerthError, joinProblems, messageOf, notFound } from '../../errors.js';
import type { NetworkController } from '../../network/controller.js';
import type { EndpointRecord } from '../../network/model.js';
import { commandFailureCode, type MountSpec, type Runtime, type RunSpec, type StdioSession, type NetworkAttachment } from '../../runtime/index.js';
import type { Json, KvStore } from '../../store/kv.js';
import { newId, nowRfc3339 } from '../../util/ids.js';
import { Serial } from '../../util/serial.js';
import type { ImageStore } from '../images/index.js';
import { ImageViews } from '../volumes/image-view.js';
import type { VolumeStore } from '../volumes/store.js';
import { EtcFiles } from './etc-files.js';
import { mountOrder, planMounts, prepareMounts, volumeUsers } from './mounts.js';
import { mergeDockerConfig, mergeSpecWithImage } from './config-merge.js';
import { ZERO_TIME, type ContainerId, type ContainerRecord, type ContainerSpec, type EndpointConfig } from './model.js';
import { generateName, validateName } from './names.js';
import { checkLegacyLinks, joinNetworks, joinRequest, namespaceOwner } from './networking.js';
import type { Timings } from '../../util/timings.js';
import { resolveProcess } from './process.js';
import { parseSignal, SIGKILL } from './signals.js';
import { restartDelay, restartsAfter } from './restart-policy.js';
import { parsePortBindings, type PortSpec } from '../../network/ports/index.js';
import { byCodeUnit } from '../../util/order.js';

const KEY = 'container/';

export interface EngineLog {
  info(msg: string): void;
  warn(msg: string): void;
}

export interface EngineDeps {
  store: KvStore;
  networks: NetworkController;
  images: ImageStore;
  runtime: Runtime;
  volumes: VolumeStore;
  dataRoot: string;
  /** The daemon's --dns. */
  daemonDns: string[];
  /** Path of the host's resolv.conf (/etc/resolv.conf). */
  hostResolvConf: string;
  /** What --add-host name:host-gateway stands for, asked at each start. */
  hostGatewayIps(): string[];
  log: EngineLog;
  /** Where the network attach times are recorded ("attach <mode>", "connect"). */
  timings?: Timings;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

/** Hooks other parts of the daemon (DNS, ports) hang on the lifecycle. */
export interface LifecycleHooks {
  /** After the network is joined, before the process runs. May throw to abort the start. */
  started?(c: ContainerRecord, endpoints: EndpointRecord[]): Promise<void>;
  /** After the process has exited (or the start failed), before the network is left. */
  stopped?(c: ContainerRecord): Promise<void>;
  /** After a running container was disconnected from a network. */
  left?(c: ContainerRecord, ep: EndpointRecord): Promise<void>;
}

export class ContainerEngine {
  private readonly containers = new Map<ContainerId, ContainerRecord>();
  private readonly locks = new Map<ContainerId, Serial>();
  /** Resolves when the exit of the current run has been fully handled. */
  private readonly exits = new Map<ContainerId, Promise<void>>();
  private readonly waiters = new Map<ContainerId, { cond: WaitCondition; resolve: (code: number) => void }[]>();
  /** Attach clients that arrived before start (docker run attaches first). */
  private readonly pendingAttach = new Map<ContainerId, ((s: StdioSession) => void)[]>();
  /** Containers the user stopped: their exit does not trigger a restart policy. */
  private readonly stopping = new Set<ContainerId>();
  /** Restarts a policy scheduled (the container is 'restarting' meanwhile), and the last wait. */
  private readonly restarts = new Map<ContainerId, NodeJS.Timeout>();
  private readonly restartWaits = new Map<ContainerId, number>();
  private readonly hooks: LifecycleHooks[] = [];
  private readonly etc: EtcFiles;
  /** Names of containers being created (name -> ID): taken before the record is saved. */
  private readonly reservedNames = new Map<string, ContainerId>();
  private readonly views: ImageViews;

  private constructor(private readonly deps: EngineDeps) {
    this.etc = new EtcFiles({
      networks: deps.networks,
      daemonDns: deps.daemonDns,
      hostResolvConf: deps.hostResolvConf,
      dir: (id) => this.dir(id),
      find: (x) => this.find(x),
      embeddedDns: () => this.embeddedDns,
      hostGatewayIps: () => deps.hostGatewayIps(),
    });
    this.views = new ImageViews(path.join(deps.dataRoot, 'image-views'));
  }

  static async open(deps: EngineDeps): Promise<ContainerEngine> {
    const e = new ContainerEngine(deps);
    for (const v of (await deps.store.list(KEY)).values()) {
      const c = v as unknown as ContainerRecord;
      e.containers.set(c.id, c);
    }
    deps.images.setUsers((imageId) =>
      e.list(true).filter((c) => c.spec.image.id === imageId).map((c) => ({ id: c.id, running: c.state.status === 'running' })),
    );
    return e;
  }

  addHooks(h: LifecycleHooks): void {
    this.hooks.push(h);
  }

  /**
   * After a daemon restart: containers whose process still runs are watched again;
   * the others are marked exited and their network torn down.
   */
  async reconcile(): Promise<void> {
    await this.views.sweep();
    const alive = new Set<string>();
    for (const c of this.containers.values()) {
      if (c.state.status !== 'running') continue;
      const st = await this.deps.runtime.state(c.id);
      if (st.status === 'running') {
        alive.add(c.id);
        this.watchExit(c.id);
        for (const h of this.hooks) {
          await h.started?.(c, this.deps.networks.endpointsOf(c.id)).catch((e: unknown) => this.deps.log.warn(`restoring ${c.spec.name}: ${messageOf(e)}`));
        }
      } else {
        await this.handleExit(c.id, st.exitCode ?? 255);
      }
    }
    // Runtime state of anything not alive (a crash in the middle of a start or a removal).
    for (const id of await this.deps.runtime.list()) {
      if (!alive.has(id)) await this.deps.runtime.delete(id).catch((e: unknown) => this.deps.log.warn(`runtime leftover ${id}: ${messageOf(e)}`));
    }
    // Folders of containers whose record is gone (a crash in the middle of a removal);
    // after the runtime leftovers, so no rootfs is mounted in them any more.
    const root = path.join(this.deps.dataRoot, 'containers');
    for (const name of fs.existsSync(root) ? fs.readdirSync(root) : []) {
      if (/^[0-9a-f]{64}$/.test(name) && !this.containers.has(name as ContainerId)) fs.rmSync(path.join(root, name), { recursive: true, force: true });
    }
    await this.deps.networks.reconcileSandboxes(alive);
    for (const id of alive) await this.syncNetworks(this.containers.get(id as ContainerId)!);
    await this.deps.networks.repairEndpoints([...alive]).catch((e: unknown) => this.deps.log.warn(`repairing endpoints: ${messageOf(e)}`));
    // As dockerd: 'always' comes back with the daemon even after a user's stop; a restart
    // the policy had scheduled when the daemon went is still due.
    for (const c of this.containers.values()) {
      if (c.state.status === 'restarting' || (c.state.status !== 'running' && c.spec.restartPolicy.name === 'always')) {
        this.scheduleRestart(c.id, 0);
      }
    }
  }

  /**
   * A running container after a restart: its endpoints made to match the networks its
   * record names (connect and disconnect touch two records; a crash can split them).
   */
  private async syncNetworks(c: ContainerRecord): Promise<void> {
    const { networks } = this.deps;
    const mode = c.spec.networkMode.kind;
    if (mode === 'host' || mode === 'container') return;
    const wanted = new Map<string, EndpointConfig>();
    for (const [key, cfg] of Object.entries(c.spec.networks)) {
      try {
        wanted.set(networks.find(key).record.id, cfg);
      } catch {
        /* the network is gone */
      }
    }
    try {
      for (const ep of networks.endpointsOf(c.id)) {
        if (wanted.has(ep.networkId)) continue;
        await networks.leave(ep.id);
        this.editEtcFiles(c, ep, 'left');
      }
      const have = new Set<string>(networks.endpointsOf(c.id).map((e) => e.networkId));
      for (const [netId, cfg] of wanted) {
        if (have.has(netId)) continue;
        const ep = await networks.join(netId, joinRequest(c.id, c.spec.name, cfg));
        for (const h of this.hooks) await h.started?.(c, [ep]);
        this.editEtcFiles(c, ep, 'joined');
      }
    } catch (e: unknown) {
      this.deps.log.warn(`networks of ${c.spec.name} after restart: ${messageOf(e)}`);
    }
  }

  list(all: boolean): ContainerRecord[] {
    // A container waiting to restart is listed with the running ones, as Docker's ps does.
    const out = [...this.containers.values()].filter((c) => all || c.state.status === 'running' || c.state.status === 'restarting');
    return out.sort((a, b) => byCodeUnit(b.created, a.created));
  }

  /** By full ID, exact name, or unique ID prefix. */
  find(idOrName: string): ContainerRecord {
    const term = idOrName.startsWith('/') ? idOrName.slice(1) : idOrName;
    const byId = this.containers.get(term as ContainerId);
    if (byId) return byId;
    const all = [...this.containers.values()];
    const byName = all.find((c) => c.spec.name === term);
    if (byName) return byName;
    const byPrefix = term === '' ? [] : all.filter((c) => c.id.startsWith(term));
    if (byPrefix.length === 1) return byPrefix[0]!;
    if (byPrefix.length > 1) throw invalid(`multiple IDs found with provided prefix: ${term}`);
    throw notFound(`No such container: ${idOrName}`);
  }

  /** The container's folder: /etc files, rootfs layers, log. */
  dir(id: string): string {
    return path.join(this.deps.dataRoot, 'containers', id);
  }

  logPath(id: string): string {
    return path.join(this.dir(id), 'container.log');
  }

  private lock(id: ContainerId): Serial {
    let s = this.locks.get(id);
    if (!s) this.locks.set(id, (s = new Serial()));
    return s;
  }

  async create(spec: Omit<ContainerSpec, 'name'> & { name: string | undefined }, docker: ContainerRecord['docker']): Promise<ContainerRecord> {
    const name = spec.name ? validateName(spec.name) : this.freshName();
    const clash = [...this.containers.values()].find((c) => c.spec.name === name)?.id ?? this.reservedNames.get(name);
    if (clash) {
      throw conflict(`Conflict. The container name "/${name}" is already in use by container "${clash}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    const sources = spec.volumesFrom.map((from) => {
      const [ref, mode] = from.split(':');
      return { mounts: this.find(ref!).spec.mounts, readonly: mode === 'ro' };
    });
    this.checkNetworkingConfig(name, spec.networks);
    const id = newId() as ContainerId;
    const image = this.deps.images.resolve(spec.image.id).config.config;
    const merged = mergeSpecWithImage({ ...spec, name }, image);
    this.reservedNames.set(name, id);
    try {
      const mounts = await prepareMounts(
        { volumes: this.deps.volumes, views: this.views },
        { containerId: id, layers: this.deps.images.layerDirs(spec.image.id), rootfs: path.join(this.dir(id), 'merged') },
        planMounts(sources, merged.mounts, merged.volumes),
      );
      const record: ContainerRecord = {
        id,
        created: nowRfc3339(),
        spec: { ...merged, mounts },
        state: { status: 'created', pid: 0, exitCode: 0, error: '', startedAt: ZERO_TIME, finishedAt: ZERO_TIME },
        restartCount: 0,
        docker: { ...docker, config: mergeDockerConfig(asJsonObject(docker.config), image) },
      };
      try {
        fs.mkdirSync(this.dir(id), { recursive: true, mode: 0o710 });
        await this.save(record);
      } catch (e: unknown) {
        this.removeAnonymousVolumes(record);
        throw e;
      }
      return record;
    } finally {
      this.reservedNames.delete(name);
    }
  }

  /** Every network's endpoint settings at once, each problem under its network's name (Docker's create). */
  private checkNetworkingConfig(name: string, networks: Record<string, EndpointConfig>): void {
    const problems: string[] = [];
    for (const [net, cfg] of Object.entries(networks)) {
      try {
        this.deps.networks.checkEndpointConfig(net, joinRequest('', name, cfg));
      } catch (e: unknown) {
        problems.push(`invalid config for network ${net}: ${messageOf(e)}`);
      }
    }
    if (problems.length > 0) throw invalid(joinProblems(problems));
  }

  private freshName(): string {
    for (let i = 0; ; i++) {
      const n = generateName(i);
      if (!this.reservedNames.has(n) && ![...this.containers.values()].some((c) => c.spec.name === n)) return n;
    }
  }

  private async save(c: ContainerRecord): Promise<void> {
    await this.deps.store.commit([{ put: KEY + c.id, value: c as unknown as Json }]);
    this.containers.set(c.id, c);
  }

  /** Start a created, exited or restarting container. Returns false when it was already running. */
  async start(idOrName: string): Promise<boolean> {
    const c0 = this.find(idOrName);
    return this.lock(c0.id).run(async () => {
      const c = this.find(c0.id);
      if (c.state.status === 'running') return false;
      if (c.state.status === 'removing') throw conflict(`container is marked for removal and cannot be started`);
      this.cancelRestart(c.id); // a user's start does now what the policy would have done later
      await this.run(c);
      return true;
    });
  }

  /**
   * The policy's start, `delayMs` from now. The container may be stopped, started or
   * removed meanwhile: the timer is cancelled then, and one that fires for a container
   * no longer waiting does nothing.
   */
  private scheduleRestart(id: ContainerId, delayMs: number): void {
    this.cancelRestart(id);
    const timer = setTimeout(() => {
      this.restarts.delete(id);
      const c = this.containers.get(id);
      if (!c || (c.state.status !== 'restarting' && c.state.status !== 'exited')) return;
      this.start(id).catch((e: unknown) => this.deps.log.warn(`restart of ${c.spec.name}: ${messageOf(e)}`));
    }, delayMs);
    this.restarts.set(id, timer);
  }

  /** Drop a scheduled restart; true when there was one. */
  private cancelRestart(id: ContainerId): boolean {
    const timer = this.restarts.get(id);
    if (timer === undefined) return false;
    clearTimeout(timer);
    this.restarts.delete(id);
    return true;
  }

  /**
   * A user's stop, kill or forced removal of a container waiting to restart: it stays
   * exited (the policy gives up, as Docker's restart manager is cancelled).
   */
  private async stopRestarting(id: ContainerId): Promise<boolean> {
    return this.lock(id).run(async () => {
      const c = this.containers.get(id);
      if (!c || c.state.status !== 'restarting') return false;
      this.cancelRestart(id);
      this.restartWaits.delete(id);
      await this.save({ ...c, state: { ...c.state, status: 'exited' } });
      return true;
    });
  }

  private async run(c: ContainerRecord): Promise<void> {
    const { networks, runtime } = this.deps;
    let created = false;
    // The runtime's own failure (create or start): only it can be the command's (Docker's 126/127).
    let runtimeError: unknown;
    try {
      checkLegacyLinks(c, (x) => this.find(x), (x) => Object.keys(x.spec.networks).some((k) => this.isDefaultBridge(k)));
      const attachStart = performance.now();
      const attached = await joinNetworks(networks, c, (x) => this.find(x));
      const spec = this.runSpec(c, attached.attachment, attached.endpoints);
      // Creating the container (conmon, runc create) takes the longest; the resolver's
      // sockets and the published ports only have to be ready before the process runs.
      const services = (async () => {
        for (const h of this.hooks) await h.started?.(c, attached.endpoints);
        await networks.publish(c.id, this.portRequests(c));
        // The whole network attach: namespace, links, addresses, routes, firewall, DNS, ports.
        this.deps.timings?.record(`attach ${c.spec.networkMode.kind}`, performance.now() - attachStart);
      })();
      const [made, ready] = await Promise.allSettled([runtime.create(spec), services]);
      created = made.status === 'fulfilled';
      if (ready.status === 'rejected') throw ready.reason;
      if (made.status === 'rejected') throw (runtimeError = made.reason);
      const { pid } = made.value;
      for (const deliver of this.pendingAttach.get(c.id) ?? []) {
        deliver(await runtime.attach(c.id, { stdin: c.spec.process.openStdin }));
      }
      this.pendingAttach.delete(c.id);
      await runtime.start(c.id).catch((e: unknown) => {
        throw (runtimeError = e);
      });
      await this.save({ ...c, state: { status: 'running', pid, exitCode: 0, error: '', startedAt: nowRfc3339(), finishedAt: c.state.finishedAt } });
      this.watchExit(c.id);
    } catch (e: unknown) {
      if (created) await runtime.delete(c.id).catch(() => undefined);
      for (const h of this.hooks) await h.stopped?.(c).catch(() => undefined);
      await networks.removeSandbox(c.id).catch(() => undefined);
      const status = c.state.status === 'restarting' ? 'exited' : c.state.status;
      await this.save({ ...c, state: { ...c.state, status, error: messageOf(e), exitCode: startExitCode(e, e === runtimeError, c.state.exitCode) } });
      // docker run --rm waits for the removal of a container whose start failed.
      if (c.spec.autoRemove) setImmediate(() => void this.remove(c.id, { force: true, volumes: true }).catch(() => undefined));
      throw e;
    }
  }

  private runSpec(c: ContainerRecord, network: NetworkAttachment, endpoints: EndpointRecord[]): RunSpec {
    const dir = this.dir(c.id);
    const image = this.deps.images.resolve(c.spec.image.id);
    const hostname = this.hostnameOf(c);
    const proc = resolveProcess(c.spec, image.config.config ?? {}, hostname);
    for (const d of ['upper', 'work', 'merged']) fs.mkdirSync(path.join(dir, d), { recursive: true });
    const mounts = mountOrder([...this.etc.write(c, endpoints, hostname), ...this.volumeMounts(c)]);
    return {
      id: c.id,
      name: c.spec.name,
      rootfs: {
        layers: this.deps.images.layerDirs(c.spec.image.id),
        upper: path.join(dir, 'upper'),
        work: path.join(dir, 'work'),
        merged: path.join(dir, 'merged'),
        readonly: c.spec.readonlyRootfs ?? false,
      },
      process: {
        args: proc.args,
        env: [...this.linkEnv(c), ...proc.env],
        cwd: proc.cwd,
        tty: c.spec.process.tty,
        openStdin: c.spec.process.openStdin,
        stdinOnce: c.spec.process.stdinOnce,
        user: proc.user,
      },
      hostname,
      domainname: this.domainnameOf(c),
      network,
      mounts,
      tmpfs: c.spec.tmpfs ?? [],
      privileged: c.spec.privileged,
      capAdd: c.spec.capAdd,
      capDrop: c.spec.capDrop,
      logPath: c.spec.logDriver === 'none' ? null : this.logPath(c.id),
    };
  }

  /** -p, and with -P every exposed port (the container's and the image's), as publication requests. */
  private portRequests(c: ContainerRecord): PortSpec[] {
    const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const b of c.spec.portBindings) (bindings[b.port] ??= []).push({ HostIp: b.hostIp, HostPort: b.hostPort });
    return parsePortBindings(bindings, Object.fromEntries(this.exposedPorts(c).map((k) => [k, {}])), c.spec.publishAllPorts);
  }

  /** "80/tcp" keys: --expose, the image's EXPOSE and every bound port. */
  exposedPorts(c: ContainerRecord): string[] {
    const image = this.deps.images.get(c.spec.image.id as never)?.config.config?.ExposedPorts ?? {};
    return [...new Set([...c.spec.exposedPorts, ...Object.keys(image), ...c.spec.portBindings.map((b) => b.port)])];
  }

  /** The hostname it runs with; a container:<x> container takes its namespace owner's, as in Docker. */
  hostnameOf(c: ContainerRecord): string {
    const owner = this.namespaceOwner(c);
    if (owner.spec.hostname) return owner.spec.hostname;
    return owner.spec.networkMode.kind === 'host' ? fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim() : owner.id.slice(0, 12);
  }

  domainnameOf(c: ContainerRecord): string {
    return this.namespaceOwner(c).spec.domainname;
  }

  /** The folder of the /etc files it mounts (the owner's for a container:<x> container). */
  etcDir(c: ContainerRecord): string {
    return this.dir(this.namespaceOwner(c).id);
  }

  /** Itself when the owner is gone (an exited container:<x> container whose target was removed). */
  private namespaceOwner(c: ContainerRecord): ContainerRecord {
    try {
      return namespaceOwner(c, (x) => this.find(x));
    } catch {
      return c;
    }
  }

  /** Set by the DNS service when the embedded resolver serves user networks. */
  embeddedDns = false;

  /** Legacy --link environment: ALIAS_NAME, ALIAS_PORT…, ALIAS_ENV_… (as Docker writes them). */
  private linkEnv(c: ContainerRecord): string[] {
    const env: string[] = [];
    for (const l of c.spec.links) {
      const [targetName, aliasRaw] = l.split(':');
      const t = this.find(targetName!);
      const alias = (aliasRaw ?? t.spec.name).replace(/^\//, '');
      const prefix = alias.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
      const ip = this.deps.networks.endpointsOf(t.id).find((e) => e.ipv4)?.ipv4?.address;
      env.push(`${prefix}_NAME=/${c.spec.name}/${alias}`);
      const ports = this.exposedPorts(t).sort((a, b) => parseInt(a) - parseInt(b));
      if (ip) {
        ports.forEach((key, i) => {
          const [port, proto = 'tcp'] = key.split('/');
          const p = `${prefix}_PORT_${port}_${proto.toUpperCase()}`;
          if (i === 0) env.push(`${prefix}_PORT=${proto}://${ip}:${port}`);
          env.push(`${p}=${proto}://${ip}:${port}`, `${p}_ADDR=${ip}`, `${p}_PORT=${port}`, `${p}_PROTO=${proto}`);
        });
      }
      for (const e of t.spec.process.env) {
        const eq = e.indexOf('=');
        if (eq > 0) env.push(`${prefix}_ENV_${e.slice(0, eq)}=${e.slice(eq + 1)}`);
      }
    }
    return env;
  }

  private volumeMounts(c: ContainerRecord): MountSpec[] {
    const out: MountSpec[] = [];
    // Records written before mounts were decided at create (no `volumes`) take --volumes-from now.
    const legacyFrom = c.spec.volumes === undefined ? c.spec.volumesFrom : [];
    for (const from of legacyFrom) {
      const [ref, mode] = from.split(':');
      const src = this.find(ref!);
      for (const m of src.spec.mounts) out.push(this.mountOf(m.type, m.source, m.destination, mode === 'ro' || m.readonly));
    }
    for (const m of c.spec.mounts) out.push(this.mountOf(m.type, m.source, m.destination, m.readonly));
    return out;
  }

  /** The containers that mount volume `name`, by ID (a volume in use cannot be removed). */
  volumeUsers(name: string): string[] {
    return volumeUsers(this.containers.values(), name).map((c) => c.id);
  }

  /**
   * rm -v and --rm: the container's anonymous volumes go, unless another container still
   * mounts them (Docker passes over those silently). Named volumes stay.
   */
  private removeAnonymousVolumes(c: ContainerRecord): void {
    for (const m of c.spec.mounts) {
      if (m.type !== 'volume' || !m.anonymous || volumeUsers(this.containers.values(), m.source).some((u) => u.id !== c.id)) continue;
      try {
        this.deps.volumes.remove(m.source, [], true);
      } catch (e: unknown) {
        this.deps.log.warn(`removing volume ${m.source} of ${c.spec.name}: ${messageOf(e)}`);
      }
    }
  }

  private mountOf(type: 'bind' | 'volume', source: string, destination: string, readonly: boolean): MountSpec {
    if (type === 'volume') return { source: this.deps.volumes.create(source).mountpoint, destination, readonly };
    if (!fs.existsSync(source)) fs.mkdirSync(source, { recursive: true });
    return { source, destination, readonly };
  }

  private watchExit(id: ContainerId): void {
    const done = this.deps.runtime
      .wait(id)
      .then((code) => this.lock(id).run(() => this.handleExit(id, code)))
      .catch((e: unknown) => this.deps.log.warn(`watching ${id.slice(0, 12)}: ${messageOf(e)}`));
    this.exits.set(id, done);
  }

  /** The process is gone: record the exit, tear down, then restart or remove as asked. */
  private async handleExit(id: ContainerId, code: number): Promise<void> {
    const c = this.containers.get(id);
    if (!c || c.state.status !== 'running') return;
    for (const h of this.hooks) await h.stopped?.(c).catch((e: unknown) => this.deps.log.warn(messageOf(e)));
    // conmon's record of the exit: right for a container that exited while berthd was down.
    const finishedAt = (await this.deps.runtime.exitedAt(id)) ?? nowRfc3339();
    await this.deps.runtime.delete(id).catch((e: unknown) => this.deps.log.warn(`runtime delete ${id}: ${messageOf(e)}`));
    await this.deps.networks.removeSandbox(id).catch((e: unknown) => this.deps.log.warn(`network teardown ${id}: ${messageOf(e)}`));
    const exited: ContainerRecord = { ...c, state: { ...c.state, status: 'exited', pid: 0, exitCode: code, finishedAt } };
    await this.save(exited);
    this.notify(id, code, (w) => w !== 'removed');
    const userStopped = this.stopping.delete(id);
    const again = restartsAfter(c.spec.restartPolicy, { code, userStopped, restartCount: c.restartCount });
    if (again) {
      const wait = restartDelay(this.restartWaits.get(id), Date.parse(finishedAt) - Date.parse(c.state.startedAt));
      this.restartWaits.set(id, wait);
      await this.save({ ...exited, state: { ...exited.state, status: 'restarting' }, restartCount: exited.restartCount + 1 });
      this.scheduleRestart(id, wait);
    } else {
      this.restartWaits.delete(id);
      if (c.spec.autoRemove) {
        setImmediate(() => void this.remove(id, { force: true, volumes: true }).catch((e: unknown) => this.deps.log.warn(`auto-remove ${id}: ${messageOf(e)}`)));
      }
    }
  }

  private notify(id: ContainerId, code: number, which: (cond: WaitCondition) => boolean): void {
    const list = this.waiters.get(id) ?? [];
    const keep = list.filter((w) => {
      if (!which(w.cond)) return true;
      w.resolve(code);
      return false;
    });
    this.waiters.set(id, keep);
  }

  /** Resolves with the exit code when the condition is met. */
  async wait(idOrName: string, cond: WaitCondition): Promise<number> {
    const c = this.find(idOrName);
    if (cond === 'not-running' && c.state.status !== 'running') return Promise.resolve(c.state.exitCode);
    return new Promise((resolve) => {
      const list = this.waiters.get(c.id) ?? [];
      list.push({ cond, resolve });
      this.waiters.set(c.id, list);
    });
  }

  /**
   * Signal the main process. With SIGKILL it resolves once the exit is handled (as
   * Docker's kill, so inspect right after shows it exited); other signals do not wait.
   */
  async kill(idOrName: string, signalName = 'SIGKILL'): Promise<void> {
    const signal = parseSignal(signalName); // dockerd checks it first, even for a missing container
    const id = this.find(idOrName).id;
    // Waiting to restart: no process to signal; the restart is called off (dockerd's kill).
    if (await this.stopRestarting(id)) return;
    const c = this.find(id); // as it is now: it may have exited meanwhile
    if (c.state.status !== 'running') throw conflict(`container ${c.id} is not running`);
    if (signal !== SIGKILL) return this.deps.runtime.kill(c.id, signal);
    this.stopping.add(c.id);
    const exited = this.wait(c.id, 'next-exit');
    try {
      await this.deps.runtime.kill(c.id, signal);
    } catch (e: unknown) {
      // Already exiting: its exit is still to be handled, so wait for it all the same.
      if (!(isBerthError(e) && e.kind === 'Conflict')) {
        this.stopping.delete(c.id);
        throw e;
      }
    }
    await exited;
    await this.exits.get(c.id);
  }

  /**
   * Stop: the stop signal, then SIGKILL after the timeout (none when the signal is
   * SIGKILL already, as for rm -f). False when it was not running.
   */
  async stop(idOrName: string, timeoutSec?: number, signal?: string): Promise<boolean> {
    if (signal !== undefined) parseSignal(signal); // dockerd checks it first, running or not
    const id = this.find(idOrName).id;
    if (await this.stopRestarting(id)) return true;
    const c = this.find(id); // as it is now: it may have exited meanwhile
    if (c.state.status !== 'running') return false;
    this.stopping.add(c.id);
    const t = timeoutSec ?? c.spec.stopTimeout;
    const sig = signal ?? c.spec.stopSignal;
    const exited = this.wait(c.id, 'next-exit');
    try {
      await this.deps.runtime.kill(c.id, sig);
    } catch {
      /* it may have exited meanwhile */
    }
    if (!isKillSignal(sig)) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), Math.max(0, t) * 1000)));
      if ((await Promise.race([exited, timeout])) === 'timeout') await this.deps.runtime.kill(c.id, 'SIGKILL').catch(() => undefined);
      clearTimeout(timer);
    }
    await exited;
    await this.exits.get(c.id);
    return true;
  }

  async restart(idOrName: string, timeoutSec?: number): Promise<void> {
    await this.stop(idOrName, timeoutSec);
    await this.start(idOrName);
  }

  /** Remove; a running container only with force (killed first); with `volumes`, its anonymous volumes too. */
  async remove(idOrName: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const c0 = this.find(idOrName);
    const busy = c0.state.status === 'running' || c0.state.status === 'restarting' ? c0.state.status : undefined;
    if (busy) {
      if (!opts.force) {
        throw conflict(`cannot remove container "/${c0.spec.name}": container is ${busy}: stop the container before removing or force remove`);
      }
      // Docker's rm -f kills; no stop signal first.
      await this.stop(c0.id, 0, 'SIGKILL');
    }
    await this.lock(c0.id).run(async () => {
      const c = this.containers.get(c0.id);
      if (!c) return;
      await this.deps.runtime.delete(c.id);
      await this.deps.networks.removeSandbox(c.id);
      // The record goes first: a crash after it leaves a folder reconcile can ignore, never a record without its folder.
      await this.deps.store.commit([{ del: KEY + c.id }]);
      fs.rmSync(this.dir(c.id), { recursive: true, force: true });
      this.containers.delete(c.id);
      if (opts.volumes) this.removeAnonymousVolumes(c);
      this.locks.delete(c.id);
      this.exits.delete(c.id);
      this.cancelRestart(c.id);
      this.restartWaits.delete(c.id);
      this.notify(c.id, c.state.exitCode, () => true);
      this.waiters.delete(c.id);
    });
  }

  /**
   * An attach client: it gets the stdio session when the process is created (at once
   * if it is running already).
   */
  async attach(idOrName: string, stdin: boolean): Promise<StdioSession> {
    const c = this.find(idOrName);
    if (c.state.status === 'running') return this.deps.runtime.attach(c.id, { stdin: stdin && c.spec.process.openStdin });
    return new Promise((resolve) => {
      const list = this.pendingAttach.get(c.id) ?? [];
      list.push(resolve);
      this.pendingAttach.set(c.id, list);
    });
  }

  async resize(id: string, size: { rows: number; cols: number }): Promise<void> {
    if (this.find(id).state.status === 'running') await this.deps.runtime.resize(id, size);
  }

  /**
   * network connect: recorded in the spec; joined now when the container runs, else
   * only checked as a start would check it (Docker refuses bad settings at once).
   */
  async connect(idOrName: string, network: string, cfg: EndpointConfig): Promise<void> {
    const c0 = this.find(idOrName);
    await this.lock(c0.id).run(async () => {
      const c = this.find(c0.id);
      const mode = c.spec.networkMode.kind;
      const net = this.deps.networks.find(network);
      if (mode === 'host' || mode === 'container') {
        throw invalid('container sharing network namespace with another container or host cannot be connected to any other network');
      }
      if (net.record.driver === 'host') throw invalid('cannot connect container to host network - container must be created in host network mode');
      if (mode === 'none' || net.record.driver === 'null') {
        throw invalid('container cannot be connected to multiple networks with one of the networks in private (none) mode');
      }
      const known = Object.keys(c.spec.networks).some((k) => this.sameNetwork(k, net.record.id));
      if (known) throw conflict(`endpoint with name ${c.spec.name} already exists in network ${net.record.name}`);
      const req = joinRequest(c.id, c.spec.name, cfg);
      if (c.state.status === 'running') {
        const t0 = performance.now();
        const ep = await this.deps.networks.join(net.record.id, req);
        for (const h of this.hooks) await h.started?.(c, [ep]);
        this.editEtcFiles(c, ep, 'joined');
        await this.publishOnGateway(c);
        this.deps.timings?.record('connect', performance.now() - t0);
      } else {
        this.deps.networks.checkEndpointConfig(net.record.id, req);
      }
      await this.save({ ...c, spec: { ...c.spec, networks: { ...c.spec.networks, [net.record.name]: cfg } } });
    });
  }

  async disconnect(idOrName: string, network: string): Promise<void> {
    const c0 = this.find(idOrName);
    await this.lock(c0.id).run(async () => {
      const c = this.find(c0.id);
      const net = this.deps.networks.find(network);
      if (c.spec.networkMode.kind === 'host' && net.record.driver === 'host') {
        throw invalid('cannot disconnect container from host network - container was created in host network mode');
      }
      const key = Object.keys(c.spec.networks).find((k) => this.sameNetwork(k, net.record.id));
      const ep = this.deps.networks.endpointsOf(c.id).find((e) => e.networkId === net.record.id);
      // Docker answers this with a 500; it is the client's mistake, so berth says 409.
      if (!key && !ep) throw conflict(`container ${c.id} is not connected to network ${net.record.name}`);
      if (ep) {
        await this.deps.networks.leave(ep.id);
        for (const h of this.hooks) await h.left?.(c, ep);
        this.editEtcFiles(c, ep, 'left');
        await this.publishOnGateway(c);
      }
      const networks = { ...c.spec.networks };
      if (key) delete networks[key];
      await this.save({ ...c, spec: { ...c.spec, networks } });
    });
  }

  /**
   * Published ports go through the endpoint with the default route. After a live
   * connect or disconnect that left them on none (the gateway endpoint went, or the
   * first routable one came), they are published again through the new one, as
   * Docker moves them; a failure (a host port taken meanwhile) is logged.
   */
  private async publishOnGateway(c: ContainerRecord): Promise<void> {
    const requests = this.portRequests(c);
    if (requests.length === 0 || this.deps.networks.publishedPorts(c.id).length > 0) return;
    try {
      await this.deps.networks.publish(c.id, requests);
    } catch (e: unknown) {
      this.deps.log.warn(`published ports of ${c.spec.name}: ${messageOf(e)}`);
    }
  }

  /** A running container's /etc files after a live join or leave; a failure only costs the entry (as in Docker). */
  private editEtcFiles(c: ContainerRecord, ep: EndpointRecord, change: 'joined' | 'left'): void {
    try {
      this.etc[change](c, ep, this.hostnameOf(c));
    } catch (e: unknown) {
      this.deps.log.warn(`/etc files of ${c.spec.name} after ${change === 'joined' ? 'connect' : 'disconnect'}: ${messageOf(e)}`);
    }
  }

  private isDefaultBridge(key: string): boolean {
    try {
      return this.deps.networks.find(key).record.name === 'bridge';
    } catch {
      return false;
    }
  }

  private sameNetwork(key: string, id: string): boolean {
    try {
      return this.deps.networks.find(key).record.id === id;
    } catch {
      return false;
    }
  }
}

function asJsonObject(v: Json): { [key: string]: Json } {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {};
}

/**
 * The exit code a failed start records, as dockerd: 127 for a command not found, 126 for
 * one that may not be run (the runtime's failure), else 128 unless an exit code is kept.
 */
function startExitCode(e: unknown, runtimeFailed: boolean, previous: number): number {
  const command = runtimeFailed ? commandFailureCode(messageOf(e)) : undefined;
  return command ?? (previous === 0 ? EXIT_UNKNOWN : previous);
}

const EXIT_UNKNOWN = 128;

function isKillSignal(signal: string): boolean {
  return ['SIGKILL', 'KILL', '9'].includes(signal.toUpperCase());
}
