/** Exec instances (docker exec): created, started once, inspected for their exit code. */
import { conflict, invalid, notFound } from '../../errors.js';
import type { ExecExit, ExecSession, Runtime, WindowSize } from '../../runtime/index.js';
import { newId } from '../../util/ids.js';
import { NO_EVENTS, type EventSink } from '../../events/types.js';
import type { ContainerEngine } from './engine.js';
import { containerEvent, execAction } from './events.js';
import { mergeEnv } from './process.js';

export interface ExecRequest {
  cmd: string[];
  env: string[];
  workingDir: string;
  user: string;
  tty: boolean;
  attachStdin: boolean;
  attachStdout: boolean;
  attachStderr: boolean;
  privileged: boolean;
  /** Typed into stdin, these detach the client (codes of docker's ctrl-p,ctrl-q style spec). */
  detachKeys: readonly number[];
  /** The tty's size to start with (ConsoleSize at create, or at start, or a resize before start). */
  consoleSize?: WindowSize;
}

export interface ExecInstance {
  id: string;
  containerId: string;
  req: ExecRequest;
  running: boolean;
  exitCode: number | null;
  pid: number;
  /** Forgotten as soon as it ends (a health probe's: nobody inspects it, and there is one every interval). */
  transient?: boolean;
}

/** Docker's exit code of an exec whose start failed before the runtime ran it. */
const FAILED_START = 126;

/** Finished instances are forgotten after this long (Docker keeps them until the container goes). */
const KEEP_MS = 10 * 60_000;

export class ExecManager {
  private readonly execs = new Map<string, ExecInstance>();
  /** The processes starting or running, for resize; rejects if the start failed. */
  private readonly sessions = new Map<string, Promise<ExecSession>>();

  constructor(
    private readonly engine: ContainerEngine,
    private readonly runtime: Runtime,
    private readonly events: EventSink = NO_EVENTS,
  ) {}

  /** A user name the container's files do not know is refused here, as dockerd does. */
  async create(containerIdOrName: string, req: ExecRequest, opts: { transient?: boolean } = {}): Promise<ExecInstance> {
    const c = this.engine.find(containerIdOrName);
    if (req.cmd.length === 0) throw invalid('No exec command specified');
    if (c.state.status !== 'running') throw conflict(`container ${c.id} is not running`);
    if (c.state.paused) throw conflict(`Container ${containerIdOrName} is paused, unpause the container before exec`);
    if (req.user) await this.runtime.resolveUser(c.id, req.user);
    const inst: ExecInstance = { id: newId(), containerId: c.id, req, running: false, exitCode: null, pid: 0, ...(opts.transient ? { transient: true } : {}) };
    this.execs.set(inst.id, inst);
    containerEvent(this.events, c, execAction('exec_create', req.cmd), { execID: inst.id });
    return inst;
  }

  get(id: string): ExecInstance {
    const e = this.execs.get(id);
    if (!e) throw notFound(`No such exec instance: ${id}`);
    return e;
  }

  /**
   * The instance, if it may be started now: its container runs. Exec start asks this
   * before it takes over the connection, so these refusals are HTTP errors, as dockerd's.
   */
  startable(id: string): ExecInstance {
    const inst = this.get(id);
    const c = this.engine.find(inst.containerId);
    if (c.state.status === 'restarting') throw conflict(`Container ${c.id} is restarting, wait until the container is running`);
    if (c.state.status !== 'running') throw conflict(`container ${c.id} is not running`);
    if (c.state.paused) throw conflict(`Container ${c.id} is paused, unpause the container before exec`);
    return inst;
  }

  /**
   * Starts the process; `settled` resolves once its exit code is recorded, with the
   * runtime's message when it never ran. A consoleSize given here (exec start's
   * ConsoleSize) replaces the one from create.
   */
  async start(id: string, opts: { consoleSize?: WindowSize } = {}): Promise<{ session: ExecSession; settled: Promise<ExecExit> }> {
    const inst = this.get(id);
    if (inst.exitCode !== null) throw conflict(`exec command ${id} has already run`);
    if (inst.running || this.sessions.has(id)) throw conflict(`exec command ${id} is already running`);
    if (opts.consoleSize) inst.req.consoleSize = opts.consoleSize;
    const c = this.engine.find(inst.containerId);
    const base = this.engine.facts.execDefaults(inst.containerId);
    const r = inst.req;
    const starting = this.runtime.exec(inst.containerId, {
      args: r.cmd,
      env: mergeEnv([...base.env, ...r.env, ...(r.tty ? ['TERM=xterm'] : [])]),
      cwd: r.workingDir || base.cwd,
      tty: r.tty,
      stdin: r.attachStdin,
      // As dockerd: an exec without a User runs as the container's user.
      user: r.user || base.user,
      privileged: r.privileged,
      ...(r.consoleSize ? { consoleSize: r.consoleSize } : {}),
    });
    this.sessions.set(id, starting);
    let session: ExecSession;
    try {
      session = await starting;
    } catch (e: unknown) {
      this.sessions.delete(id);
      // As dockerd: an exec that failed to start has run, with 126 unless it said otherwise.
      inst.exitCode = FAILED_START;
      this.forgetLater(inst);
      throw e;
    }
    inst.running = true;
    inst.pid = session.pid;
    containerEvent(this.events, c, execAction('exec_start', r.cmd), { execID: id });
    const settled = session.exit.then((x) => {
      this.sessions.delete(id);
      inst.running = false;
      inst.exitCode = x.exitCode;
      containerEvent(this.events, c, 'exec_die', { execID: id, exitCode: String(x.exitCode) });
      this.forgetLater(inst);
      return x;
    });
    return { session, settled };
  }

  /** A finished instance stays inspectable a while; a transient one goes at once. */
  private forgetLater(inst: ExecInstance): void {
    if (inst.transient) this.execs.delete(inst.id);
    else setTimeout(() => this.execs.delete(inst.id), KEEP_MS).unref();
  }

  /**
   * Resize the exec's tty (no-op without one). The docker CLI sends it as soon as its
   * start is answered, while the process may still be starting: wait for it then. Before
   * any start it becomes the size to start with; after the exit there is nothing to resize.
   */
  async resize(id: string, size: WindowSize): Promise<void> {
    const inst = this.get(id);
    const starting = this.sessions.get(id);
    if (starting) {
      const session = await starting.catch(() => undefined);
      await session?.resize(size);
    } else if (inst.exitCode === null) inst.req.consoleSize = size;
  }
}

