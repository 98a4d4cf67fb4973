/**
 * A fake OCI runtime for unit tests of the container engine: containers it holds outlive
 * the daemon (as conmon keeps them), each create, start, kill and delete is a step of
 * the shared Faults (so it can fail, or the daemon crash, right there), and a test ends
 * a container's process with `exit()`.
 */
import { conflict, notFound, notImplemented } from '../../src/errors.js';
import type { CgroupStats, ContainerState, ExecSession, LogEntry, ProcessUser, ResourceUpdate, Runtime, RunSpec, StdioSession } from '../../src/runtime/index.js';
import { resolveUser } from '../../src/runtime/users.js';
import type { Faults } from './fake-kernel.js';

interface Held {
  status: 'created' | 'running' | 'paused' | 'stopped';
  pid: number;
  exitCode?: number;
  exitedAt?: string;
  spec: RunSpec;
  /** What the last update applied. */
  resources?: ResourceUpdate;
}

export class FakeRuntime implements Runtime {
  readonly ociRuntime = '/usr/sbin/fake-runc';
  cgroupFeatures = { memory: true, swap: true, cpuShares: true, cpuCfs: true, cpuset: true, blkioWeight: true, pids: true };
  readonly containers = new Map<string, Held>();
  private waiters = new Map<string, ((code: number) => void)[]>();
  private nextPid = 1000;

  constructor(private readonly faults: Faults) {}

  async create(spec: RunSpec): Promise<{ pid: number }> {
    await this.faults.step(`runtime create ${spec.id.slice(0, 12)}`);
    if (this.containers.has(spec.id)) throw conflict(`container ${spec.id} already exists in the runtime`);
    const pid = this.nextPid++;
    this.containers.set(spec.id, { status: 'created', pid, spec });
    return { pid };
  }

  async start(id: string): Promise<void> {
    await this.faults.step(`runtime start ${id.slice(0, 12)}`);
    const c = this.held(id);
    if (c.status !== 'created') throw conflict(`container ${id} is not created`);
    c.status = 'running';
  }

  async kill(id: string, signal: string | number): Promise<void> {
    await this.faults.step(`runtime kill ${id.slice(0, 12)} ${signal}`);
    const status = this.held(id).status;
    if (status !== 'running' && status !== 'paused') throw conflict(`container ${id} is not running`);
    this.exit(id, 137);
  }

  /** The container's process ends (a test's doing, or a kill). */
  exit(id: string, code: number): void {
    const c = this.held(id);
    c.status = 'stopped';
    c.exitCode = code;
    c.exitedAt = new Date().toISOString();
    for (const w of this.waiters.get(id) ?? []) w(code);
    this.waiters.delete(id);
  }

  async wait(id: string): Promise<number> {
    const c = this.held(id);
    if (c.status === 'stopped') return c.exitCode!;
    return new Promise((resolve) => this.waiters.set(id, [...(this.waiters.get(id) ?? []), resolve]));
  }

  async exitedAt(id: string): Promise<string | undefined> {
    return this.containers.get(id)?.exitedAt;
  }

  async state(id: string): Promise<ContainerState> {
    const c = this.containers.get(id);
    if (!c) return { status: 'missing' };
    return c.status === 'stopped' ? { status: 'stopped', exitCode: c.exitCode! } : { status: c.status, pid: c.pid };
  }

  async list(): Promise<string[]> {
    return [...this.containers.keys()];
  }

  async delete(id: string): Promise<void> {
    if (!this.containers.has(id)) return;
    await this.faults.step(`runtime delete ${id.slice(0, 12)}`);
    const status = this.containers.get(id)!.status;
    if (status === 'running' || status === 'paused') this.exit(id, 137);
    this.containers.delete(id);
  }

  /** The daemon is gone: what it waited for no longer reaches it; the containers live on. */
  daemonDied(): void {
    this.waiters = new Map();
  }

  async attach(): Promise<StdioSession> {
    throw notImplemented('the fake runtime has no stdio');
  }

  async resize(): Promise<void> {}

  /** The fake has no files: numeric users only, as runc without /etc/passwd. */
  async resolveUser(id: string, user: string): Promise<ProcessUser> {
    this.held(id);
    return resolveUser(user, null, null);
  }

  async exec(): Promise<ExecSession> {
    throw notImplemented('the fake runtime runs no exec');
  }

  async reopenLog(): Promise<void> {}

  async *logs(): AsyncIterable<LogEntry> {
    return;
  }

  async pause(id: string): Promise<void> {
    await this.faults.step(`runtime pause ${id.slice(0, 12)}`);
    const c = this.held(id);
    if (c.status !== 'running') throw conflict(`container ${id} is not running`);
    c.status = 'paused';
  }

  async resume(id: string): Promise<void> {
    await this.faults.step(`runtime resume ${id.slice(0, 12)}`);
    const c = this.held(id);
    if (c.status !== 'paused') throw conflict(`container ${id} is not paused`);
    c.status = 'running';
  }

  async update(id: string, resources: ResourceUpdate): Promise<void> {
    await this.faults.step(`runtime update ${id.slice(0, 12)}`);
    this.held(id).resources = resources;
  }

  async pids(id: string): Promise<number[]> {
    return [this.held(id).pid];
  }

  async stats(id: string): Promise<CgroupStats> {
    this.held(id);
    return {
      cpu: { total: 1000, kernel: 0, user: 1000, periods: 0, throttledPeriods: 0, throttledTime: 0 },
      memory: { usage: 4096, limit: 8192, stats: {} },
      pids: { current: 1, limit: 0 },
      blkio: {},
    };
  }

  private held(id: string): Held {
    const c = this.containers.get(id);
    if (!c) throw notFound(`no such container ${id}`);
    return c;
  }
}
