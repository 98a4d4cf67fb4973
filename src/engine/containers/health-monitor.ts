/**
 * The health monitors: one per running container with a check, each one timer and at
 * most one probe at a time (the next is timed from the end of the last, as dockerd's).
 * A monitor starts when its container runs (a start, a restart policy's restart, or a
 * live container found again after a daemon restart, which resumes its stored health)
 * and stops when it exits, is removed, or the daemon shuts down; a probe under way is
 * then killed and its result dropped. The decisions are health.ts's; a probe is run by
 * the ProbeRunner (health-probe.ts: an exec, as docker exec's). Nothing here throws.
 */
import { messageOf } from '../../errors.js';
import type { EventSink } from '../../events/types.js';
import { nowRfc3339 } from '../../util/ids.js';
import { healthStatusEvent } from './events.js';
import { probeOf, unknownProbeType, type Probe } from './health-config.js';
import { nextProbeDelay, recordResult, type HealthResult, type HealthStatus } from './health.js';
import type { EngineLog, LifecycleHooks } from './lifecycle.js';
import type { ContainerId, ContainerRecord } from './model.js';

/** What a probe ended with: its exit code (-1 when it timed out or never ran) and output. */
export interface ProbeOutcome {
  exitCode: number;
  output: string;
}

/** Runs one probe in the container; `signal` aborts it (the probe is killed). May throw: a failed run. */
export type ProbeRunner = (c: ContainerRecord, probe: Probe, signal: AbortSignal) => Promise<ProbeOutcome>;

export interface HealthMonitorDeps {
  run: ProbeRunner;
  /**
   * Change the container's record under its lock; the change returns undefined to leave
   * it as it is. Rejects when the container is gone.
   */
  update(id: ContainerId, change: (c: ContainerRecord) => ContainerRecord | undefined): Promise<void>;
  events: EventSink;
  log: EngineLog;
}

/** setTimeout's longest wait; a longer interval is waited out in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class HealthMonitors {
  private readonly monitors = new Map<ContainerId, Monitor>();

  constructor(private readonly deps: HealthMonitorDeps) {}

  /** The lifecycle hooks that start and stop the monitors. */
  hooks(): LifecycleHooks {
    return {
      running: (c) => this.start(c),
      stopped: async (c) => this.stop(c.id),
    };
  }

  /** Monitor a running container (a fresh monitor, replacing any it had). */
  start(c: ContainerRecord): void {
    this.stop(c.id);
    const warning = unknownProbeType(c.spec.healthcheck);
    if (warning !== undefined) this.deps.log.warn(`${warning} in container ${c.id}`);
    const probe = probeOf(c.spec.healthcheck, shellOf(c));
    if (probe === undefined || c.state.health === undefined) return;
    const m = new Monitor(c, probe, this.deps);
    this.monitors.set(c.id, m);
    m.schedule(c.state.health.status);
  }

  /** Stop a container's monitor, killing a probe under way. */
  stop(id: ContainerId): void {
    this.monitors.get(id)?.stop();
    this.monitors.delete(id);
  }

  /** Daemon shutdown: every monitor stops (the containers run on). */
  close(): void {
    for (const id of [...this.monitors.keys()]) this.stop(id);
  }

  /** How many containers are monitored. */
  get size(): number {
    return this.monitors.size;
  }
}

class Monitor {
  private timer: NodeJS.Timeout | undefined;
  private readonly aborter = new AbortController();
  private readonly startedAtMs: number;

  constructor(
    private readonly c: ContainerRecord,
    private readonly probe: Probe,
    private readonly deps: HealthMonitorDeps,
  ) {
    this.startedAtMs = Date.parse(c.state.startedAt);
  }

  private get stopped(): boolean {
    return this.aborter.signal.aborted;
  }

  schedule(status: HealthStatus): void {
    if (this.stopped) return;
    const due = Date.now() + nextProbeDelay(this.probe, status, Date.now() - this.startedAtMs);
    const arm = (): void => {
      this.timer = setTimeout(() => {
        if (Date.now() < due) arm();
        else void this.probeOnce();
      }, Math.min(Math.max(0, due - Date.now()), MAX_TIMER_MS));
    };
    arm();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.aborter.abort();
  }

  private async probeOnce(): Promise<void> {
    const start = nowRfc3339();
    let outcome: ProbeOutcome;
    try {
      outcome = await this.deps.run(this.c, this.probe, this.aborter.signal);
    } catch (e: unknown) {
      outcome = { exitCode: -1, output: messageOf(e) };
    }
    if (this.stopped) return;
    let status: HealthStatus | undefined;
    try {
      status = await this.record({ start, end: nowRfc3339(), ...outcome });
    } catch (e: unknown) {
      // Stopped meanwhile, the container may be gone: nothing to report then.
      if (!this.stopped) this.deps.log.warn(`health check of ${this.c.spec.name}: ${messageOf(e)}`);
    }
    if (status !== undefined) this.schedule(status);
  }

  /** Store the result; its status (undefined when the container no longer runs under this monitor). */
  private async record(result: HealthResult): Promise<HealthStatus | undefined> {
    let changed: { c: ContainerRecord; status: HealthStatus } | undefined;
    let status: HealthStatus | undefined;
    await this.deps.update(this.c.id, (c) => {
      const h = c.state.health;
      if (this.stopped || c.state.status !== 'running' || h === undefined) return undefined;
      const next = recordResult(h, result, this.probe, this.startedAtMs);
      status = next.status;
      if (next.status !== h.status) changed = { c, status: next.status };
      return { ...c, state: { ...c.state, health: next } };
    });
    if (changed) healthStatusEvent(this.deps.events, changed.c, changed.status);
    return status;
  }
}

/** Config.Shell, for CMD-SHELL (empty: /bin/sh -c). */
function shellOf(c: ContainerRecord): string[] {
  const config = c.docker.config;
  const shell = config !== null && typeof config === 'object' && !Array.isArray(config) ? config.Shell : undefined;
  return Array.isArray(shell) ? shell.filter((s): s is string => typeof s === 'string') : [];
}
