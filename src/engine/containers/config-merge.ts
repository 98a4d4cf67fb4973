/**
 * Docker's merge of an image's run config into a new container's Config (moby's
 * daemon/commit.go merge), done once at create: what the user left empty comes from the
 * image; ExposedPorts, Env, Labels and Volumes combine both, the user's entry winning.
 * Two views of the same merge: the Docker JSON inspect shows, and the typed fields
 * berth acts on. The process (Cmd, Entrypoint, Env, WorkingDir, User) is resolved from
 * the spec and the image at each start by process.ts, by the same rules.
 */
import { posix } from 'node:path';
import type { ImageRunConfig } from '../images/index.js';
import type { Json } from '../../store/kv.js';
import { healthConfigOf, healthJson, mergeHealthConfig } from './health-config.js';
import type { ContainerSpec } from './model.js';

type JsonObject = { [key: string]: Json };

const DEFAULT_STOP_SIGNAL = 'SIGTERM';

/** The client's Config with the image's defaults in, as Docker's inspect shows it. */
export function mergeDockerConfig(user: JsonObject, image: ImageRunConfig | undefined): JsonObject {
  const img = image ?? {};
  const out: JsonObject = { ...user };
  if (isEmpty(out.User)) out.User = img.User ?? '';
  const ports = combineSets(out.ExposedPorts, img.ExposedPorts);
  if (ports === null) delete out.ExposedPorts; // omitempty in Docker's Config
  else out.ExposedPorts = ports;
  out.Env = isEmpty(out.Env) ? (img.Env ?? null) : mergeEnvKeys(out.Env as string[], img.Env ?? []);
  out.Labels = { ...(img.Labels ?? {}), ...asObject(out.Labels) };
  if (isEmpty(out.Entrypoint)) {
    if (isEmpty(out.Cmd)) out.Cmd = img.Cmd ?? null;
    // An explicit empty entrypoint (--entrypoint "") keeps the image's out.
    if (out.Entrypoint === undefined || out.Entrypoint === null) out.Entrypoint = img.Entrypoint ?? null;
  }
  const health = mergeHealthConfig(healthConfigOf(out.Healthcheck), img.Healthcheck);
  if (health === undefined) delete out.Healthcheck; // omitempty
  else out.Healthcheck = healthJson(health);
  if (isEmpty(out.WorkingDir)) out.WorkingDir = img.WorkingDir ?? '';
  out.Volumes = combineSets(out.Volumes, img.Volumes);
  if (isEmpty(out.StopSignal) && img.StopSignal !== undefined) out.StopSignal = img.StopSignal;
  return out;
}

/** The typed fields of the same merge: exposed ports, labels, volume paths, stop signal ('' when the user gave none), health check. */
export function mergeSpecWithImage<S extends Pick<ContainerSpec, 'exposedPorts' | 'labels' | 'volumes' | 'stopSignal' | 'healthcheck'>>(spec: S, image: ImageRunConfig | undefined): S {
  const img = image ?? {};
  const healthcheck = mergeHealthConfig(spec.healthcheck, img.Healthcheck);
  return {
    ...spec,
    ...(healthcheck ? { healthcheck } : {}),
    exposedPorts: union(spec.exposedPorts, Object.keys(img.ExposedPorts ?? {})),
    labels: { ...(img.Labels ?? {}), ...spec.labels },
    // Cleaned as Docker does before it mounts (a relative path is taken from the root).
    volumes: union(spec.volumes, Object.keys(img.Volumes ?? {}).map((p) => posix.resolve('/', p))),
    stopSignal: spec.stopSignal || img.StopSignal || DEFAULT_STOP_SIGNAL,
  };
}

/** Image env entries whose key the user did not set, after the user's. */
function mergeEnvKeys(user: string[], image: string[]): string[] {
  const keys = new Set(user.map(envKey));
  return [...user, ...image.filter((e) => !keys.has(envKey(e)))];
}

function envKey(e: string): string {
  const eq = e.indexOf('=');
  return eq < 0 ? e : e.slice(0, eq);
}

/** Docker's `{"key": {}}` sets: the user's, or the image's when the user's is empty, else both. */
function combineSets(user: Json | undefined, image: Record<string, Record<string, never>> | undefined): JsonObject | null {
  if (isEmpty(user)) return image ?? null;
  return { ...asObject(user), ...(image ?? {}) };
}

function union(a: string[], b: string[]): string[] {
  return [...new Set([...a, ...b])];
}

/** Go's len(x) == 0 for strings, slices and maps; null and absent too. */
function isEmpty(v: Json | undefined): boolean {
  if (v === undefined || v === null) return true;
  if (typeof v === 'string' || Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && Object.keys(v).length === 0;
}

function asObject(v: Json | undefined): JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {};
}
