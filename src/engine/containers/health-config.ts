/**
 * A container's health check as configured: Docker's HealthConfig (durations in
 * nanoseconds), checked at create as dockerd's verifyContainerSettings checks it, merged
 * with the image's HEALTHCHECK as moby's merge does (each field the container leaves
 * zero comes from the image), shown back as Docker's JSON (zero fields left out, as Go's
 * omitempty), and turned into the probe the monitor runs, Docker's defaults filled in.
 */
import { invalid } from '../../errors.js';
import type { Json } from '../../store/kv.js';
import { goDuration } from '../../util/go-duration.js';
import type { HealthConfig } from '../images/config.js';

export type { HealthConfig };

/** containertypes.MinimumDuration: a duration that is set is at least 1ms. */
const MINIMUM_NS = 1e6;
const DURATIONS = ['Interval', 'Timeout', 'StartPeriod', 'StartInterval'] as const;

/** moby's daemon/health.go defaults. */
export const HEALTH_DEFAULTS = { intervalNs: 30e9, timeoutNs: 30e9, startPeriodNs: 0, startIntervalNs: 5e9, retries: 3 } as const;

/** dockerd's validateHealthCheck, in its order and words (an InvalidParameter: 400). */
export function checkHealthConfig(hc: HealthConfig): void {
  const tooShort = (ns: number | undefined) => ns !== undefined && ns !== 0 && ns < MINIMUM_NS;
  const floor = goDuration(MINIMUM_NS);
  if (tooShort(hc.Interval)) throw invalid(`Interval in Healthcheck cannot be less than ${floor}`);
  if (tooShort(hc.Timeout)) throw invalid(`Timeout in Healthcheck cannot be less than ${floor}`);
  if ((hc.Retries ?? 0) < 0) throw invalid('Retries in Healthcheck cannot be negative');
  if (tooShort(hc.StartPeriod)) throw invalid(`StartPeriod in Healthcheck cannot be less than ${floor}`);
  if (tooShort(hc.StartInterval)) throw invalid(`StartInterval in Healthcheck cannot be less than ${floor}`);
}

/** moby's merge: the image's check, with each field the container sets (non-zero) taking its place. */
export function mergeHealthConfig(user: HealthConfig | undefined, image: HealthConfig | undefined): HealthConfig | undefined {
  if (image === undefined) return user === undefined ? undefined : compact(user);
  if (user === undefined) return compact(image);
  const merged: HealthConfig = { Test: user.Test && user.Test.length > 0 ? user.Test : image.Test };
  for (const k of DURATIONS) merged[k] = user[k] || image[k];
  merged.Retries = user.Retries || image.Retries;
  return compact(merged);
}

/** Config.Healthcheck as Docker shows it: its fields in Go's order, the zero ones left out. */
export function healthJson(hc: HealthConfig): { [key: string]: Json } {
  return { ...compact(hc) };
}

/** Stored Config.Healthcheck JSON read back leniently (it was checked at create); undefined when absent. */
export function healthConfigOf(v: Json | undefined): HealthConfig | undefined {
  if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const hc: HealthConfig = {};
  if (Array.isArray(v.Test)) hc.Test = v.Test.filter((x): x is string => typeof x === 'string');
  for (const k of [...DURATIONS, 'Retries'] as const) {
    const n = v[k];
    if (typeof n === 'number') hc[k] = n;
  }
  return compact(hc);
}

/** The probe the monitor runs: its command and timings in milliseconds, Docker's defaults in. */
export interface Probe {
  /** CMD's arguments, or CMD-SHELL's command after the shell (`/bin/sh -c` unless Config.Shell). */
  argv: string[];
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  startIntervalMs: number;
  /** Consecutive failures that make the container unhealthy. */
  retries: number;
  /** The timeout as dockerd prints it ("30s"), for "Health check exceeded timeout (30s)". */
  timeoutText: string;
}

/** Whether the check runs anything: CMD or CMD-SHELL (NONE, an empty Test or an unknown type do not). */
export function hasProbe(hc: HealthConfig | undefined): boolean {
  const kind = hc?.Test?.[0];
  return kind === 'CMD' || kind === 'CMD-SHELL';
}

/** dockerd's warning for a Test whose type it does not know (the check is then not run); undefined otherwise. */
export function unknownProbeType(hc: HealthConfig | undefined): string | undefined {
  const kind = hc?.Test?.[0];
  if (kind === undefined || kind === 'NONE' || hasProbe(hc)) return undefined;
  return `Unknown healthcheck type '${kind}' (expected 'CMD')`;
}

/** The probe of a check that runs one; `shell` is Config.Shell (empty: /bin/sh -c). */
export function probeOf(hc: HealthConfig | undefined, shell: readonly string[] = []): Probe | undefined {
  if (hc === undefined || !hasProbe(hc)) return undefined;
  const [kind, ...args] = hc.Test!;
  const timeoutNs = hc.Timeout || HEALTH_DEFAULTS.timeoutNs;
  const retries = hc.Retries ?? 0;
  return {
    argv: kind === 'CMD-SHELL' ? [...(shell.length > 0 ? shell : ['/bin/sh', '-c']), ...args] : args,
    intervalMs: (hc.Interval || HEALTH_DEFAULTS.intervalNs) / 1e6,
    timeoutMs: timeoutNs / 1e6,
    startPeriodMs: (hc.StartPeriod || HEALTH_DEFAULTS.startPeriodNs) / 1e6,
    startIntervalMs: (hc.StartInterval || HEALTH_DEFAULTS.startIntervalNs) / 1e6,
    retries: retries > 0 ? retries : HEALTH_DEFAULTS.retries,
    timeoutText: goDuration(timeoutNs),
  };
}

/** Go's omitempty over HealthConfig, in its field order. */
function compact(hc: HealthConfig): HealthConfig {
  const out: HealthConfig = {};
  if (hc.Test && hc.Test.length > 0) out.Test = hc.Test;
  for (const k of DURATIONS) if (hc[k]) out[k] = hc[k];
  if (hc.Retries) out.Retries = hc.Retries;
  return out;
}
