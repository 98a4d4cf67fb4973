/**
 * The agent: on every node (managers too), it runs the tasks the orchestrator gave this
 * node as containers and says how they are (task-status/<id>, its only key).
 *
 * It follows the tasks with this node's ID: one meant to run gets its container made
 * and started (preparing → starting → running; a create that fails is rejected, a start
 * that fails failed, with the error); a container that exits or is killed is reported
 * (complete, or failed with its exit code), for the orchestrator to replace; a task meant
 * to stop has its container stopped (shutdown), one to go has it removed. A container
 * whose task is gone or is another node's is removed. After a daemon restart the
 * containers it finds are its tasks' again: nothing is made twice, nothing left behind.
 */
import { messageOf } from '../../errors.js';
import type { LogRecord } from '../../logs/message.js';
import type { EtcdStore } from '../../store/etcd.js';
import type { ServiceCache } from './cache.js';
import type { TaskLogOptions } from './log-server.js';
import { ENDED_STATES, type TaskRecord, type TaskStatus } from './model.js';
import { TASK_STATUS } from './stored.js';
import { taskContainer } from './task-container.js';

/** A task's container as the agent sees it. */
export interface TaskContainer {
  id: string;
  taskId: string;
  status: 'created' | 'running' | 'restarting' | 'exited' | 'dead' | 'removing';
  /** Its health check's verdict so far; none without a check. */
  health?: 'starting' | 'healthy' | 'unhealthy';
  exitCode: number;
  pid: number;
  error: string;
}

/** What the agent asks of this node's container engine (the daemon wires it). */
export interface TaskContainers {
  /** The containers that carry a task's labels. */
  list(): TaskContainer[];
  /**
   * Create a container from Docker's create body, as a task's (it may join networks that
   * are not attachable), its image pulled first when this node has none (`registryAuth`:
   * the service's X-Registry-Auth); its ID.
   */
  create(name: string, body: Record<string, unknown>, registryAuth?: string): Promise<string>;
  start(id: string): Promise<void>;
  /** Stop it (its stop signal, then SIGKILL after `graceSeconds`). */
  stop(id: string, graceSeconds: number): Promise<void>;
  /** Remove it, running or not. */
  remove(id: string): Promise<void>;
  /** Its addresses per network (CIDR form). */
  addresses(id: string): { networkId: string; addresses: string[] }[];
  /** The log records of a task's container (none when this node has no container for it). */
  logs(taskId: string, opts: TaskLogOptions, signal: AbortSignal): AsyncIterable<LogRecord>;
  /** Hear of a container's exit or of a change of its health. Returns the way to stop hearing. */
  onChange(f: (containerId: string) => void): () => void;
}

export interface AgentOptions {
  store: EtcdStore;
  cache: ServiceCache;
  nodeId: string;
  containers: TaskContainers;
  log: (m: string) => void;
}

/** A look every few seconds besides the changes and exits it hears of: nothing missed stays missed. */
const SWEEP_MS = 5000;

export class Agent {
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private readonly stops: (() => void)[] = [];
  private sweep: NodeJS.Timeout | undefined;
  /** Tasks whose work is under way -> whether another look was asked meanwhile. */
  private readonly busy = new Map<string, boolean>();

  constructor(private readonly o: AgentOptions) {}

  start(): void {
    this.stops.push(this.o.cache.onChange(() => this.soon()));
    this.stops.push(this.o.containers.onChange(() => this.soon()));
    this.sweep = setInterval(() => this.soon(), SWEEP_MS);
    this.sweep.unref();
    this.soon();
  }

  close(): void {
    this.closed = true;
    for (const s of this.stops) s();
    clearInterval(this.sweep);
  }

  /** Wait for the pass under way and the tasks' work (shutdown). */
  async idle(): Promise<void> {
    await this.running;
    while (this.busy.size > 0) await new Promise((r) => setTimeout(r, 20));
  }

  /** A pass soon: the changes of one commit arrive as several events, one pass takes them all. */
  private soon(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = new Promise<void>((r) => setTimeout(r, 10))
      .then(() => this.pass())
      .catch((e: unknown) => this.o.log(`agent: ${messageOf(e)}`))
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.closed) {
          this.again = false;
          this.soon();
        }
      });
  }

  /**
   * Each task's work (a start, a stop that waits out its grace period) runs on its own,
   * one at a time per task: a pass starts what is not under way and does not wait.
   */
  private pass(): void {
    const c = this.o.cache;
    const containers = new Map(this.o.containers.list().map((x) => [x.taskId, x]));
    for (const t of c.tasks.values()) {
      if (t.nodeId !== this.o.nodeId) continue;
      this.exclusively(t.id, async () => {
        const now = this.o.cache.tasks.get(t.id);
        if (now && now.nodeId === this.o.nodeId) await this.follow(now, this.o.containers.list().find((x) => x.taskId === t.id));
      });
    }
    for (const [taskId, x] of containers) {
      const t = c.tasks.get(taskId);
      if (t && t.nodeId === this.o.nodeId) continue;
      this.exclusively(taskId, async () => this.o.containers.remove(x.id));
    }
  }

  private exclusively(taskId: string, work: () => Promise<void>): void {
    if (this.busy.has(taskId)) {
      this.busy.set(taskId, true);
      return;
    }
    this.busy.set(taskId, false);
    void work()
      .catch((e: unknown) => this.o.log(`agent: task ${taskId}: ${messageOf(e)}`))
      .finally(() => {
        const again = this.busy.get(taskId) === true;
        this.busy.delete(taskId);
        if (again) this.soon();
      });
  }

  private async follow(t: TaskRecord, x: TaskContainer | undefined): Promise<void> {
    const status = this.o.cache.statuses.get(t.id);
    const ended = status !== undefined && ENDED_STATES.has(status.state);
    if (t.desiredState === 'running') {
      if (ended) return;
      if (!x) return this.run(t);
      if (x.status === 'running') return this.runs(t, x);
      if (x.status === 'created') return this.startIt(t, x.id);
      return this.exited(t, x);
    }
    if (x && x.status === 'running') await this.o.containers.stop(x.id, Math.round((t.spec.ContainerSpec.StopGracePeriod ?? 10e9) / 1e9));
    if (t.desiredState === 'remove' && x) await this.o.containers.remove(x.id);
    if (!ended) await this.report(t, { state: 'shutdown', message: 'shutdown', ...(x ? { containerId: x.id, exitCode: x.exitCode } : {}), networks: [] });
  }

  private async run(t: TaskRecord): Promise<void> {
    const service = this.o.cache.services.get(t.serviceId)?.record;
    if (!service) return;
    const ingress = [...this.o.cache.networks.values()].find((n) => n.ingress)?.id;
    const { name, body } = taskContainer(t, { id: service.id, name: service.spec.Name, ports: service.ports }, ingress);
    await this.report(t, { state: 'preparing', message: 'preparing', networks: [] });
    let id: string;
    try {
      id = await this.o.containers.create(name, body, service.registryAuth);
    } catch (e: unknown) {
      await this.report(t, { state: 'rejected', message: 'preparing', err: messageOf(e), networks: [] });
      return;
    }
    await this.startIt(t, id);
  }

  private async startIt(t: TaskRecord, id: string): Promise<void> {
    await this.report(t, { state: 'starting', message: 'starting', containerId: id, networks: [] });
    try {
      await this.o.containers.start(id);
    } catch (e: unknown) {
      await this.report(t, { state: 'failed', message: 'starting', err: messageOf(e), containerId: id, networks: [] });
      return;
    }
    const x = this.o.containers.list().find((c) => c.id === id);
    if (!x) return;
    if (x.status !== 'running') return this.exited(t, x);
    await this.runs(t, x);
  }

  /**
   * A task whose container runs, as swarmkit's executor says it: with a health check it
   * is still starting until healthy (and takes no connections: the balancer waits for
   * `running`), and an unhealthy one has failed (the orchestrator replaces it).
   */
  private async runs(t: TaskRecord, x: TaskContainer): Promise<void> {
    if (x.health === 'starting') return this.report(t, { state: 'starting', message: 'starting', containerId: x.id, networks: [] });
    if (x.health === 'unhealthy') return this.report(t, { state: 'failed', message: 'started', err: 'dockerexec: unhealthy container', containerId: x.id, networks: [] });
    await this.report(t, { state: 'running', message: 'started', containerId: x.id, pid: x.pid, networks: this.o.containers.addresses(x.id) });
  }

  /** A container of a task meant to run has stopped by itself (or was killed). */
  private async exited(t: TaskRecord, x: TaskContainer): Promise<void> {
    if (x.exitCode === 0 && x.error === '') {
      await this.report(t, { state: 'complete', message: 'finished', containerId: x.id, exitCode: 0, networks: [] });
      return;
    }
    const err = x.error !== '' ? x.error : `task: non-zero exit (${x.exitCode})`;
    await this.report(t, { state: 'failed', message: 'started', err, containerId: x.id, exitCode: x.exitCode, networks: [] });
  }

  /** task-status/<id>, written when it says something new. */
  private async report(t: TaskRecord, s: Omit<TaskStatus, 'timestamp'>): Promise<void> {
    const before = this.o.cache.statuses.get(t.id);
    if (before && before.state === s.state && before.containerId === s.containerId && before.err === s.err && JSON.stringify(before.networks) === JSON.stringify(s.networks)) return;
    if (!this.o.cache.tasks.has(t.id)) return;
    const status: TaskStatus = { ...s, timestamp: new Date().toISOString() };
    await this.o.store.commit([TASK_STATUS.put(t.id, status)]);
    this.o.cache.putStatus(t.id, status);
  }
}
