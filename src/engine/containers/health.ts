/**
 * A container's health as dockerd keeps it (State.Health), as pure functions: the state
 * at a start, after each probe's result and when the container stops, when the next
 * probe is due, and a probe's output cut as dockerd cuts it. The monitor
 * (health-monitor.ts) only times the probes and stores what these return.
 */
import type { Probe } from './health-config.js';

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

/** One probe's run (State.Health.Log entry). */
export interface HealthResult {
  /** RFC 3339 times. */
  start: string;
  end: string;
  /** 0 healthy; anything else a failure (-1: it timed out or could not run). */
  exitCode: number;
  output: string;
}

export interface HealthState {
  status: HealthStatus;
  /** Consecutive failures counted (those inside the start period are not). */
  failingStreak: number;
  /** The last MAX_LOG_ENTRIES results, oldest first. */
  log: HealthResult[];
}

export const MAX_LOG_ENTRIES = 5;
/** Output kept of a probe; past it, "..." marks what was lost. */
export const MAX_OUTPUT_BYTES = 4096;

/** At each start (a restart included): starting, no failures, the log of earlier runs kept (dockerd's initHealthMonitor). */
export function healthOnStart(previous: HealthState | undefined): HealthState {
  return { status: 'starting', failingStreak: 0, log: previous?.log ?? [] };
}

/** When the container stops, its monitor with it: dockerd then calls it unhealthy. */
export function healthOnStop(h: HealthState | undefined): HealthState | undefined {
  return h === undefined ? undefined : { ...h, status: 'unhealthy' };
}

/**
 * A probe's result (dockerd's handleProbeResult): it joins the log; a success makes the
 * container healthy and ends the start period; a failure counts unless the container is
 * still starting inside its start period, and `retries` failures in a row make it unhealthy.
 */
export function recordResult(h: HealthState, r: HealthResult, probe: Pick<Probe, 'retries' | 'startPeriodMs'>, startedAtMs: number): HealthState {
  const log = [...h.log, r].slice(-MAX_LOG_ENTRIES);
  if (r.exitCode === 0) return { status: 'healthy', failingStreak: 0, log };
  const inStartPeriod = h.status === 'starting' && Date.parse(r.start) - startedAtMs < probe.startPeriodMs;
  if (inStartPeriod) return { ...h, log };
  const failingStreak = h.failingStreak + 1;
  return { status: failingStreak >= probe.retries ? 'unhealthy' : h.status, failingStreak, log };
}

/**
 * Milliseconds from the end of a probe (or the monitor's start) to the next: the interval
 * once the start period is over; inside it, the start interval while still starting, and
 * never past the period's end, so the first probe that counts runs as it ends.
 */
export function nextProbeDelay(probe: Pick<Probe, 'intervalMs' | 'startPeriodMs' | 'startIntervalMs'>, status: HealthStatus, sinceStartMs: number): number {
  const left = probe.startPeriodMs - sinceStartMs;
  if (left <= 0) return probe.intervalMs;
  return Math.min(status === 'starting' ? probe.startIntervalMs : probe.intervalMs, left);
}

/** What docker ps appends to "Up 5 seconds": " (healthy)", " (health: starting)". */
export function healthSuffix(h: HealthState | undefined): string {
  if (h === undefined) return '';
  return h.status === 'starting' ? ' (health: starting)' : ` (${h.status})`;
}

/** A probe's stdout and stderr together, the first MAX_OUTPUT_BYTES of them (dockerd's limitedBuffer). */
export class ProbeOutput {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private truncated = false;

  write(data: Buffer): void {
    const keep = Math.min(MAX_OUTPUT_BYTES - this.size, data.length);
    if (keep > 0) {
      this.chunks.push(data.subarray(0, keep));
      this.size += keep;
    }
    if (keep < data.length) this.truncated = true;
  }

  text(): string {
    const out = Buffer.concat(this.chunks).toString('utf8');
    return this.truncated ? `${out}...` : out;
  }
}
