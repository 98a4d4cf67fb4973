/**
 * The image config document (Docker's image JSON, a superset of the OCI image config)
 * and image/layer identifiers. An image ID is "sha256:" + the sha256 of the config's
 * exact bytes, so configs are kept as the bytes they arrived as.
 */
import { createHash } from 'node:crypto';
import { invalid } from '../../errors.js';

/** "sha256:<64 hex>" — an image ID or a layer diff-id. */
export type Digest = string & { readonly __brand: 'Digest' };

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isDigest(s: string): s is Digest {
  return DIGEST_RE.test(s);
}

/** Validate a "sha256:<hex>" string (InvalidParameter otherwise). */
export function asDigest(s: string, what = 'digest'): Digest {
  if (!isDigest(s)) throw invalid(`invalid ${what} ${JSON.stringify(s)}`);
  return s;
}

/** The bare hex of a digest: safe as a file name (validated). */
export function hexOf(d: Digest): string {
  return d.slice('sha256:'.length);
}

export function sha256Digest(data: Buffer | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}` as Digest;
}

/** Docker's short ID: the first 12 hex digits. */
export function shortId(d: string): string {
  return d.replace(/^sha256:/, '').slice(0, 12);
}

export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** The runtime defaults an image carries (`config` of the image JSON). */
export interface ImageRunConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  OnBuild?: string[] | null;
  Healthcheck?: HealthConfig;
  ArgsEscaped?: boolean;
  Shell?: string[];
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfigFile {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  author?: string;
  comment?: string;
  docker_version?: string;
  config?: ImageRunConfig;
  rootfs: { type: 'layers'; diff_ids: Digest[] };
  history?: HistoryEntry[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optString(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(`invalid image config: ${key} is not a string`);
  return v;
}

function optStringArray(v: unknown, key: string): string[] | null | undefined {
  if (v === undefined) return undefined;
  if (v === null) return null;
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) {
    throw invalid(`invalid image config: ${key} is not a list of strings`);
  }
  return v;
}

function optSet(v: unknown, key: string): Record<string, Record<string, never>> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v)) throw invalid(`invalid image config: ${key} is not an object`);
  const out: Record<string, Record<string, never>> = {};
  for (const k of Object.keys(v)) out[k] = {};
  return out;
}

/** A run config (an image's `config`, or a container's Config) read into the fields images carry. */
export function parseRunConfig(v: unknown): ImageRunConfig | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v)) throw invalid('invalid image config: config is not an object');
  const c: ImageRunConfig = {};
  const user = optString(v, 'User');
  if (user !== undefined) c.User = user;
  const ports = optSet(v.ExposedPorts, 'ExposedPorts');
  if (ports !== undefined) c.ExposedPorts = ports;
  const env = optStringArray(v.Env, 'Env');
  if (env) c.Env = env;
  const ep = optStringArray(v.Entrypoint, 'Entrypoint');
  if (ep !== undefined) c.Entrypoint = ep;
  const cmd = optStringArray(v.Cmd, 'Cmd');
  if (cmd !== undefined) c.Cmd = cmd;
  const vols = optSet(v.Volumes, 'Volumes');
  if (vols !== undefined) c.Volumes = vols;
  const wd = optString(v, 'WorkingDir');
  if (wd !== undefined) c.WorkingDir = wd;
  if (isRecord(v.Labels)) {
    const labels: Record<string, string> = {};
    for (const [k, val] of Object.entries(v.Labels)) if (typeof val === 'string') labels[k] = val;
    c.Labels = labels;
  }
  const stop = optString(v, 'StopSignal');
  if (stop !== undefined) c.StopSignal = stop;
  const onBuild = optStringArray(v.OnBuild, 'OnBuild');
  if (onBuild !== undefined) c.OnBuild = onBuild;
  if (isRecord(v.Healthcheck)) {
    const h = v.Healthcheck;
    const hc: HealthConfig = {};
    const test = optStringArray(h.Test, 'Healthcheck.Test');
    if (test) hc.Test = test;
    for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const) {
      const n = h[k];
      if (typeof n === 'number') hc[k] = n;
    }
    c.Healthcheck = hc;
  }
  if (typeof v.ArgsEscaped === 'boolean') c.ArgsEscaped = v.ArgsEscaped;
  const shell = optStringArray(v.Shell, 'Shell');
  if (shell) c.Shell = shell;
  return c;
}

/**
 * Parse and validate config bytes (from an archive or our own store). Unknown fields
 * are ignored here but kept in the stored bytes, so the ID never changes.
 */
export function parseImageConfig(raw: Buffer | string): ImageConfigFile {
  let v: unknown;
  try {
    v = JSON.parse(raw.toString());
  } catch {
    throw invalid('invalid image config: not JSON');
  }
  if (!isRecord(v)) throw invalid('invalid image config: not an object');
  const rootfs = v.rootfs;
  if (!isRecord(rootfs) || !Array.isArray(rootfs.diff_ids)) throw invalid('invalid image config: no rootfs.diff_ids');
  if (rootfs.type !== 'layers') throw invalid(`invalid image config: rootfs type ${JSON.stringify(rootfs.type)}`);
  const diffIds = rootfs.diff_ids.map((d: unknown) => asDigest(typeof d === 'string' ? d : '', 'layer diff-id'));
  const cfg: ImageConfigFile = {
    architecture: optString(v, 'architecture') ?? '',
    os: optString(v, 'os') ?? '',
    rootfs: { type: 'layers', diff_ids: diffIds },
  };
  for (const k of ['variant', 'created', 'author', 'comment', 'docker_version'] as const) {
    const s = optString(v, k);
    if (s !== undefined) cfg[k] = s;
  }
  const run = parseRunConfig(v.config);
  if (run !== undefined) cfg.config = run;
  if (Array.isArray(v.history)) {
    cfg.history = v.history.filter(isRecord).map((h) => {
      const e: HistoryEntry = {};
      for (const k of ['created', 'created_by', 'author', 'comment'] as const) {
        const s = h[k];
        if (typeof s === 'string') e[k] = s;
      }
      if (h.empty_layer === true) e.empty_layer = true;
      return e;
    });
  }
  return cfg;
}

/** Serialise a config we create ourselves (stable key order: the caller's). */
export function encodeImageConfig(cfg: ImageConfigFile): Buffer {
  return Buffer.from(JSON.stringify(cfg));
}

/** The platform's architecture in Go/OCI spelling. */
export function goArch(arch: string = process.arch): string {
  const map: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return map[arch] ?? arch;
}

/** Layer chain IDs (how Docker names a layer stack): chain(n) = sha256(chain(n-1) + " " + diff(n)). */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const d of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : sha256Digest(`${prev} ${d}`));
  }
  return out;
}
