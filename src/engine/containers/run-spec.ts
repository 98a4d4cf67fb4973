/**
 * The runtime's view of a container start (a RunSpec), built from the record and what
 * the engine gathered for this start. Pure: the files and folders it names exist by then.
 */
import * as path from 'node:path';
import type { MountSpec, NetworkAttachment, RunSpec } from '../../runtime/index.js';
import type { ContainerRecord } from './model.js';
import type { ResolvedProcess } from './process.js';

export interface RunSpecInput {
  record: ContainerRecord;
  /** The container's folder: the rootfs's upper, work and merged folders live there. */
  dir: string;
  /** The image's layer folders, lowest first. */
  layers: string[];
  hostname: string;
  domainname: string;
  process: ResolvedProcess;
  /** Legacy --link variables, before the process's own environment. */
  linkEnv: string[];
  network: NetworkAttachment;
  /** /etc files, volumes and binds, in mount order. */
  mounts: MountSpec[];
  /** The log file; null when nothing is logged. */
  logPath: string | null;
  /** conmon's limit on it. */
  logSizeMax?: number;
}

export function buildRunSpec(i: RunSpecInput): RunSpec {
  const { spec } = i.record;
  return {
    id: i.record.id,
    name: spec.name,
    rootfs: {
      layers: i.layers,
      upper: path.join(i.dir, 'upper'),
      work: path.join(i.dir, 'work'),
      merged: path.join(i.dir, 'merged'),
      readonly: spec.readonlyRootfs ?? false,
    },
    process: {
      args: i.process.args,
      env: [...i.linkEnv, ...i.process.env],
      cwd: i.process.cwd,
      tty: spec.process.tty,
      openStdin: spec.process.openStdin,
      stdinOnce: spec.process.stdinOnce,
      user: i.process.user,
    },
    hostname: i.hostname,
    domainname: i.domainname,
    network: i.network,
    mounts: i.mounts,
    tmpfs: spec.tmpfs ?? [],
    privileged: spec.privileged,
    capAdd: spec.capAdd,
    capDrop: spec.capDrop,
    options: spec.options,
    logPath: i.logPath,
    ...(i.logSizeMax !== undefined ? { logSizeMax: i.logSizeMax } : {}),
  };
}

/** A legacy --link's target, as its variables need it. */
export interface LinkTarget {
  alias: string;
  /** Its IPv4 address on the default bridge; none when it has no endpoint there. */
  ip: string | undefined;
  /** "80/tcp" keys. */
  exposedPorts: string[];
  env: string[];
}

/** Legacy --link environment: ALIAS_NAME, ALIAS_PORT…, ALIAS_ENV_… (as Docker writes them). */
export function linkEnv(containerName: string, targets: readonly LinkTarget[]): string[] {
  const env: string[] = [];
  for (const t of targets) {
    const prefix = t.alias.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
    env.push(`${prefix}_NAME=/${containerName}/${t.alias}`);
    const ports = [...t.exposedPorts].sort((a, b) => parseInt(a) - parseInt(b));
    if (t.ip) {
      ports.forEach((key, i) => {
        const [port, proto = 'tcp'] = key.split('/');
        const p = `${prefix}_PORT_${port}_${proto.toUpperCase()}`;
        if (i === 0) env.push(`${prefix}_PORT=${proto}://${t.ip}:${port}`);
        env.push(`${p}=${proto}://${t.ip}:${port}`, `${p}_ADDR=${t.ip}`, `${p}_PORT=${port}`, `${p}_PROTO=${proto}`);
      });
    }
    for (const e of t.env) {
      const eq = e.indexOf('=');
      if (eq > 0) env.push(`${prefix}_ENV_${e.slice(0, eq)}=${e.slice(eq + 1)}`);
    }
  }
  return env;
}
