/**
 * The container engine: the lifecycle of containers (create, start, stop, kill,
 * restart, remove, wait, attach). The parts live beside it: the records and their locks
 * (records.ts), what follows an exit and the restart policy (exits.ts), live network
 * connect and disconnect (connections.ts), the runtime's spec (run-spec.ts), what a
 * record implies (facts.ts: folder, hostname, ports, process). One
 * canonical record per container, persisted on every change; operations on one
 * container are serialised.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { conflict, isBerthError, messageOf, wrapError } from '../../errors.js';
import type { NetworkController } from '../../network/controller.js';
import type { EndpointRecord } from '../../network/model.js';
import { commandFailureCode, type Runtime, type RunSpec, type StdioSession, type NetworkAttachment } from '../../runtime/index.js';
import type { KvStore } from '../../store/kv.js';
import { nowRfc3339 } from '../../util/ids.js';
import { ImageViews } from '../volumes/image-view.js';
import type { VolumeStore } from '../volumes/store.js';
import { NetworkConnections } from './connections.js';
import { ContainerCreation } from './creation.js';
import { EtcFiles } from './etc-files.js';
import type { EventSink } from '../../events/types.js';
import { NO_EVENTS } from '../../events/types.js';
import { containerEvent, killEvent, volumesMounted } from './events.js';
import { Exits } from './exits.js';
import type { ContainerLogging, EngineImages, EngineLog, LifecycleHooks, WaitCondition } from './lifecycle.js';
import { mountOrder, removeAnonymousVolumes, runMounts, volumeNames, volumeUsers } from './mounts.js';
import { type ContainerId, type ContainerRecord, type ContainerSpec, type EndpointConfig } from './model.js';
import { checkLegacyLinks, joinNetworks, SETUP_NETWORKING } from './networking.js';
import { ContainerOperations } from './operations.js';
import { ContainerFacts } from './facts.js';
import { pausedAsRuntimeSays } from './pause.js';
import { hasProbe } from './health-config.js';
import { healthOnStart } from './health.js';
import { ContainerRecords } from './records.js';
import { buildRunSpec } from './run-spec.js';
import type { Timings } from '../../util/timings.js';
import { parseSignal, SIGKILL, signalNumber } from './signals.js';

export interface EngineDeps {
  store: KvStore;
  networks: NetworkController;
  images: EngineImages;
  runtime: Runtime;
  volumes: VolumeStore;
  dataRoot: string;
  /** The daemon's --dns. */
  daemonDns: string[];
  /** Path of the host's resolv.conf (/etc/resolv.conf). */
  hostResolvConf: string;
  /** --host-gateway-ip: what --add-host name:host-gateway stands for (none given: the default bridge's gateways). */
  hostGatewayIps: string[];
  /** Whether the embedded resolver serves user networks (its hooks are added): resolv.conf then names 127.0.0.11. */
  embeddedDns: boolean;
  log: EngineLog;
  /** Where the network attach times are recorded ("attach <mode>", "connect"). */
  timings?: Timings;
  /** Where the containers' events go (none without). */
  events?: EventSink;
  /** The containers' log drivers (without: conmon's file is all there is). */
  logging?: ContainerLogging;
}

export class ContainerEngine {
  /** Attach clients that arrived before start (docker run attaches first). */
  private readonly pendingAttach = new Map<ContainerId, ((s: StdioSession) => void)[]>();
  private readonly hooks: LifecycleHooks[] = [];
  private readonly etc: EtcFiles;
  private readonly views: ImageViews;
  private readonly exits: Exits;
  /** Containers' networks after their start (connections.ts); the daemon tells it of the swarm's networks coming and going. */
  readonly connections: NetworkConnections;
  private readonly creation: ContainerCreation;
  private readonly events: EventSink;
  /** rename, pause, unpause, top, stats, update (operations.ts). */
  readonly ops: ContainerOperations;
  /** What a record implies: folder, hostname, ports, process (facts.ts). */
  readonly facts: ContainerFacts;

  private constructor(
    private readonly deps: EngineDeps,
    private readonly records: ContainerRecords,
  ) {
    this.events = deps.events ?? NO_EVENTS;
    this.facts = new ContainerFacts({ dataRoot: deps.dataRoot, images: deps.images, networks: deps.networks, find: (x) => this.find(x) });
    this.etc = new EtcFiles({
      networks: deps.networks,
      daemonDns: deps.daemonDns,
      hostResolvConf: deps.hostResolvConf,
      dir: (id) => this.facts.dir(id),
      find: (x) => this.find(x),
      embeddedDns: () => deps.embeddedDns,
      hostGatewayIps: () => (deps.hostGatewayIps.length > 0 ? deps.hostGatewayIps : deps.networks.defaultBridgeGateways()),
    });
    this.views = new ImageViews(path.join(deps.dataRoot, 'image-views'));
    this.exits = new Exits({
      records,
      runtime: deps.runtime,
      networks: deps.networks,
      hooks: this.hooks,
      log: deps.log,
      events: this.events,
      ...(deps.logging ? { logging: deps.logging } : {}),
      start: async (id) => this.start(id),
      autoRemove: async (id) => this.remove(id, { force: true, volumes: true }),
    });
    this.creation = new ContainerCreation({
      records,
      networks: deps.networks,
      images: deps.images,
      volumes: deps.volumes,
      views: this.views,
      log: deps.log,
      events: this.events,
      dir: (id) => this.facts.dir(id),
    });
    this.connections = new NetworkConnections({
      records,
      networks: deps.networks,
      hooks: this.hooks,
      etc: this.etc,
      log: deps.log,
      ...(deps.timings ? { timings: deps.timings } : {}),
      hostnameOf: (c) => this.facts.hostnameOf(c),
      portRequests: (c) => this.facts.portRequests(c),
    });
    const names = { claimName: this.creation.claimName.bind(this.creation), releaseName: this.creation.releaseName.bind(this.creation) };
    this.ops = new ContainerOperations({ ...deps, ...names, records, hooks: this.hooks, events: this.events, etcDir: (c) => this.facts.etcDir(c) });
    // The last user of a volume's filesystem going (an exit, a failed start) unmounts it.
    this.hooks.push({ stopped: async (c) => deps.volumes.mounts.release(c.id) });
  }

  static async open(deps: EngineDeps): Promise<ContainerEngine> {
    const e = new ContainerEngine(deps, await ContainerRecords.load(deps.store));
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
    const { runtime, networks, log } = this.deps;
    await this.views.sweep();
    const alive = new Set<string>();
    for (const c of this.records.all()) {
      if (c.state.status !== 'running') continue;
      const st = await runtime.state(c.id);
      if (st.status === 'running' || st.status === 'paused') {
        alive.add(c.id);
        this.deps.volumes.mounts.restore(c.id, volumeNames(c));
        await pausedAsRuntimeSays(this.records, c, st.status === 'paused');
        const p = this.facts.processIfImage(c);
        if (p) this.deps.logging?.restored(c, p.args, p.env);
        this.exits.watch(c.id);
        for (const h of this.hooks) {
          await h.started?.(c, networks.endpointsOf(c.id)).catch((e: unknown) => log.warn(`restoring ${c.spec.name}: ${messageOf(e)}`));
        }
        this.notifyRunning(c);
      } else {
        await this.exits.handle(c.id, st.exitCode ?? 255);
      }
    }
    // Volume filesystems a crash left mounted that no running container uses.
    const orphans = await this.deps.volumes.mounts.sweep(this.deps.volumes.list()).catch((e: unknown) => void log.warn(`unmounting unused volumes: ${messageOf(e)}`));
    if (orphans?.length) log.info(`unmounted unused volumes: ${orphans.join(', ')}`);
    // Runtime state of anything not alive (a crash in the middle of a start or a removal).
    for (const id of await runtime.list()) {
      if (!alive.has(id)) await runtime.delete(id).catch((e: unknown) => log.warn(`runtime leftover ${id}: ${messageOf(e)}`));
    }
    // Folders of containers whose record is gone (a crash in the middle of a removal);
    // after the runtime leftovers, so no rootfs is mounted in them any more.
    const root = path.join(this.deps.dataRoot, 'containers');
    for (const name of fs.existsSync(root) ? fs.readdirSync(root) : []) {
      if (/^[0-9a-f]{64}$/.test(name) && !this.records.get(name as ContainerId)) fs.rmSync(path.join(root, name), { recursive: true, force: true });
    }
    // Output an earlier daemon had not shipped when the container exited or it went.
    for (const c of this.records.all()) {
      if (alive.has(c.id)) continue;
      const p = this.facts.processIfImage(c);
      if (p) await this.deps.logging?.leftover(c, p.args, p.env).catch((e: unknown) => log.warn(`logs of ${c.spec.name}: ${messageOf(e)}`));
    }
    await networks.reconcileSandboxes(alive);
    for (const id of alive) await this.connections.resync(this.records.get(id as ContainerId)!);
    await networks.repairEndpoints([...alive]).catch((e: unknown) => log.warn(`repairing endpoints: ${messageOf(e)}`));
    // As dockerd: 'always' comes back with the daemon even after a user's stop; a restart
    // the policy had scheduled when the daemon went is still due.
    for (const c of this.records.all()) {
      if (c.state.status === 'restarting' || (c.state.status !== 'running' && c.spec.restartPolicy.name === 'always')) {
        this.exits.scheduleRestart(c.id, 0);
      }
    }
  }

  /** Newest first; without `all`, only those running or about to restart. */
  list(all: boolean): ContainerRecord[] {
    return this.records.list(all);
  }

  /** By full ID, exact name, or unique ID prefix. */
  find(idOrName: string): ContainerRecord {
    return this.records.find(idOrName);
  }

  /**
   * Change a container's record under its lock (for modules beside the lifecycle:
   * legacy-links.ts, the health monitors); a change that returns undefined leaves it.
   */
  async updateRecord(idOrName: string, change: (c: ContainerRecord) => Promise<ContainerRecord | undefined>): Promise<void> {
    const { id } = this.records.find(idOrName);
    await this.records.lock(id).run(async () => {
      const next = await change(this.records.find(id));
      if (next !== undefined) await this.records.save(next);
    });
  }

  /** Runs fn under the container's lock with its record as it is then (archive.ts, commit). */
  async exclusive<T>(idOrName: string, fn: (c: ContainerRecord) => Promise<T>): Promise<T> {
    const { id } = this.records.find(idOrName);
    return this.records.lock(id).run(async () => fn(this.records.find(id)));
  }

  /** The container's folder: /etc files, rootfs layers, log. */
  logPath(id: string): string {
    return path.join(this.facts.dir(id), 'container.log');
  }

  /** Create a container (nothing runs yet): see creation.ts. */
  async create(spec: Omit<ContainerSpec, 'name'> & { name: string | undefined }, docker: ContainerRecord['docker']): Promise<ContainerRecord> {
    return this.creation.create(spec, docker);
  }

  /** Start a created, exited or restarting container. Returns false when it was already running. */
  async start(idOrName: string): Promise<boolean> {
    const c0 = this.find(idOrName);
    return this.records.lock(c0.id).run(async () => {
      const c = this.find(c0.id);
      // Paused first: a paused container is running too (dockerd's order).
      if (c.state.paused) throw conflict('cannot start a paused container, try unpause instead');
      if (c.state.status === 'running') return false;
      if (c.state.status === 'removing') throw conflict(`container is marked for removal and cannot be started`);
      this.exits.cancelRestart(c.id); // a user's start does now what the policy would have done later
      await this.run(c);
      return true;
    });
  }

  private async run(c: ContainerRecord): Promise<void> {
    const { networks, runtime, log } = this.deps;
    let created = false;
    let logging = false;
    // The runtime's own failure (create or start): only it can be the command's (Docker's 126/127).
    let runtimeError: unknown;
    try {
      checkLegacyLinks(c, (x) => this.find(x), (x) => Object.keys(x.spec.networks).some((k) => this.isDefaultBridge(k)));
      await this.deps.volumes.mounts.acquire(c.id, volumeNames(c));
      const attachStart = performance.now();
      const attached = await joinNetworks(networks, c, (x) => this.find(x));
      const spec = this.runSpec(c, attached.attachment, attached.endpoints);
      // Creating the container (conmon, runc create) takes the longest; the resolver's
      // sockets, the published ports and the log driver only have to be ready before the process runs.
      const services = (async () => {
        await this.deps.logging?.starting(c, spec.process.args, spec.process.env);
        logging = true;
        for (const h of this.hooks) await h.started?.(c, attached.endpoints);
        await networks.publish(c.id, this.facts.portRequests(c)).catch((e: unknown) => {
          throw wrapError(e, SETUP_NETWORKING);
        });
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
      const health = hasProbe(c.spec.healthcheck) ? healthOnStart(c.state.health) : c.state.health;
      const running: ContainerRecord = { ...c, state: { status: 'running', pid, exitCode: 0, error: '', startedAt: nowRfc3339(), finishedAt: c.state.finishedAt, ...(health ? { health } : {}) } };
      await this.records.save(running);
      this.exits.watch(c.id);
      volumesMounted(this.events, c);
      containerEvent(this.events, c, 'start');
      this.notifyRunning(running);
    } catch (e: unknown) {
      // Undo the start; what cannot be undone now is logged (reconcile takes it at the next start).
      const undo = (what: string) => (u: unknown) => log.warn(`failed start of ${c.spec.name}: ${what}: ${messageOf(u)}`);
      if (created) await runtime.delete(c.id).catch(undo('runtime state'));
      if (logging) await this.deps.logging?.exited(c).catch(undo('log driver'));
      for (const h of this.hooks) await h.stopped?.(c).catch(undo('lifecycle hook'));
      await networks.removeSandbox(c.id).catch(undo('network'));
      const status = c.state.status === 'restarting' ? 'exited' : c.state.status;
      await this.records.save({ ...c, state: { ...c.state, status, error: messageOf(e), exitCode: startExitCode(e, e === runtimeError, c.state.exitCode) } });
      // docker run --rm waits for the removal of a container whose start failed.
      if (c.spec.autoRemove) setImmediate(() => void this.remove(c.id, { force: true, volumes: true }).catch(undo('--rm')));
      throw e;
    }
  }

  /** The hooks' running, each on its own: one failing neither undoes the start nor stops the others. */
  private notifyRunning(c: ContainerRecord): void {
    for (const h of this.hooks) {
      try {
        h.running?.(c);
      } catch (e: unknown) {
        this.deps.log.warn(`${c.spec.name} running: ${messageOf(e)}`);
      }
    }
  }

  /** Gathers what a start needs (its folders, /etc files, mounts, process) into the runtime's spec. */
  private runSpec(c: ContainerRecord, network: NetworkAttachment, endpoints: EndpointRecord[]): RunSpec {
    const dir = this.facts.dir(c.id);
    const hostname = this.facts.hostnameOf(c);
    for (const d of ['upper', 'work', 'merged']) fs.mkdirSync(path.join(dir, d), { recursive: true });
    return buildRunSpec({
      record: c,
      dir,
      layers: this.deps.images.layerDirs(c.spec.image.id),
      hostname,
      domainname: this.facts.domainnameOf(c),
      process: this.facts.process(c, hostname),
      linkEnv: this.facts.linkEnv(c),
      network,
      mounts: mountOrder([...this.etc.write(c, endpoints, hostname), ...runMounts(c, this.deps.volumes, (x) => this.find(x))]),
      ...this.spoolOf(c),
    });
  }

  /** conmon's log file: the log service's spool, else (no service: unit tests) one file kept as it is. */
  private spoolOf(c: ContainerRecord): { logPath: string | null; logSizeMax?: number } {
    if (!this.deps.logging) return { logPath: c.spec.logDriver === 'none' ? null : this.logPath(c.id) };
    const s = this.deps.logging.spool(c);
    return { logPath: s.path, logSizeMax: s.maxBytes };
  }

  /** The containers that mount volume `name`, by ID (a volume in use cannot be removed). */
  volumeUsers(name: string): string[] {
    return volumeUsers(this.records.all(), name).map((c) => c.id);
  }

  /** Resolves with the exit code when the condition is met. */
  async wait(idOrName: string, cond: WaitCondition): Promise<number> {
    return this.exits.wait(this.find(idOrName), cond);
  }

  /**
   * Signal the main process. With SIGKILL it resolves once the exit is handled (as
   * Docker's kill, so inspect right after shows it exited); other signals do not wait.
   */
  async kill(idOrName: string, signalName = 'SIGKILL'): Promise<void> {
    const signal = parseSignal(signalName); // dockerd checks it first, even for a missing container
    const id = this.find(idOrName).id;
    // Waiting to restart: no process to signal; the restart is called off (dockerd's kill).
    if (await this.exits.callOffRestart(id)) return;
    const c = this.find(id); // as it is now: it may have exited meanwhile
    if (c.state.status !== 'running') throw conflict(`container ${c.id} is not running`);
    if (signal !== SIGKILL) {
      await this.deps.runtime.kill(c.id, signal);
      // As dockerd: the stop signal reaches a paused container, which is thawed for it; others wait for an unpause.
      if (signal === signalNumber(c.spec.stopSignal)) await this.ops.thawForExit(c);
      return killEvent(this.events, c, signal);
    }
    this.exits.userStopping(c.id);
    const exited = this.exits.wait(c, 'next-exit');
    try {
      await this.deps.runtime.kill(c.id, signal);
      await this.ops.thawForExit(c);
    } catch (e: unknown) {
      // Already exiting: its exit is still to be handled, so wait for it all the same.
      if (!(isBerthError(e) && e.kind === 'Conflict')) {
        this.exits.userStopFailed(c.id);
        throw e;
      }
    }
    killEvent(this.events, c, signal);
    await exited;
    await this.exits.handled(c.id);
  }

  /**
   * Stop: the stop signal, then SIGKILL after the timeout (none when the signal is
   * SIGKILL already, as for rm -f). False when it was not running.
   */
  async stop(idOrName: string, timeoutSec?: number, signal?: string): Promise<boolean> {
    if (signal !== undefined) parseSignal(signal); // dockerd checks it first, running or not
    const c0 = this.find(idOrName);
    const id = c0.id;
    if (await this.exits.callOffRestart(id)) {
      containerEvent(this.events, c0, 'stop');
      return true;
    }
    const c = this.find(id); // as it is now: it may have exited meanwhile
    if (c.state.status !== 'running') return false;
    this.exits.userStopping(c.id);
    const t = timeoutSec ?? c.spec.stopTimeout;
    const sig = signal ?? c.spec.stopSignal;
    const exited = this.exits.wait(c, 'next-exit');
    try {
      await this.deps.runtime.kill(c.id, sig);
      killEvent(this.events, c, sig);
      await this.ops.thawForExit(c);
    } catch {
      /* it may have exited meanwhile */
    }
    if (!isKillSignal(sig)) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), Math.max(0, t) * 1000)));
      if ((await Promise.race([exited, timeout])) === 'timeout') {
        await this.deps.runtime.kill(c.id, 'SIGKILL').then(() => killEvent(this.events, c, SIGKILL), () => undefined);
      }
      clearTimeout(timer);
    }
    await exited;
    await this.exits.handled(c.id);
    containerEvent(this.events, c, 'stop');
    return true;
  }

  async restart(idOrName: string, timeoutSec?: number): Promise<void> {
    const c = this.find(idOrName);
    await this.stop(c.id, timeoutSec);
    await this.start(c.id);
    containerEvent(this.events, c, 'restart');
  }

  /** Remove; a running container only with force (killed first); with `volumes`, its anonymous volumes too. */
  async remove(idOrName: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const c0 = this.find(idOrName);
    const busy = c0.state.status === 'running' || c0.state.status === 'restarting' ? c0.state.status : undefined;
    if (busy) {
      if (!opts.force && c0.state.paused) throw conflict(`cannot remove container "/${c0.spec.name}": container is paused and must be unpaused first`);
      if (!opts.force) {
        throw conflict(`cannot remove container "/${c0.spec.name}": container is ${busy}: stop the container before removing or force remove`);
      }
      // Docker's rm -f kills; no stop signal first.
      await this.stop(c0.id, 0, 'SIGKILL');
    }
    await this.records.lock(c0.id).run(async () => {
      const c = this.records.get(c0.id);
      if (!c) return;
      await this.deps.runtime.delete(c.id);
      await this.deps.logging?.removed(c);
      await this.deps.networks.removeSandbox(c.id);
      // The record goes first: a crash after it leaves a folder reconcile can ignore, never a record without its folder.
      await this.records.delete(c.id);
      fs.rmSync(this.facts.dir(c.id), { recursive: true, force: true });
      if (opts.volumes) removeAnonymousVolumes(c, this.records.all(), this.deps.volumes, this.deps.log);
      this.exits.removed(c);
      containerEvent(this.events, c, 'destroy');
    });
  }

  /**
   * An attach client: it gets the stdio session when the process is created (at once
   * if it is running already).
   */
  async attach(idOrName: string, stdin: boolean): Promise<StdioSession> {
    const c = this.find(idOrName);
    containerEvent(this.events, c, 'attach');
    if (c.state.status === 'running') return this.deps.runtime.attach(c.id, { stdin: stdin && c.spec.process.openStdin });
    return new Promise((resolve) => {
      const list = this.pendingAttach.get(c.id) ?? [];
      list.push(resolve);
      this.pendingAttach.set(c.id, list);
    });
  }

  async resize(id: string, size: { rows: number; cols: number }): Promise<void> {
    const c = this.find(id);
    if (c.state.status !== 'running') return;
    await this.deps.runtime.resize(id, size);
    containerEvent(this.events, c, 'resize', { height: String(size.rows), width: String(size.cols) });
  }

  /** network connect (see connections.ts). */
  async connect(idOrName: string, network: string, cfg: EndpointConfig): Promise<void> {
    await this.connections.connect(idOrName, network, cfg);
  }

  /** network disconnect (see connections.ts). */
  async disconnect(idOrName: string, network: string): Promise<void> {
    await this.connections.disconnect(idOrName, network);
  }

  private isDefaultBridge(key: string): boolean {
    try {
      return this.deps.networks.find(key).record.name === 'bridge';
    } catch {
      return false;
    }
  }
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
