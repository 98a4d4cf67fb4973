/**
 * `docker commit`: a new image from a container, as dockerd's CreateImageFromContainer
 * makes it. The layer is the container's writable layer (its upper folder) as an
 * archive, overlayfs whiteouts turned into `.wh.` files and opaque folders into
 * `.wh..wh..opq`; the config is the container's Config (or the one sent) with the
 * --change instructions applied, then completed from the container's Config (moby's
 * merge); the history gains an entry whose created_by is the container's command.
 */
import * as path from 'node:path';
import { conflict, invalid } from '../../errors.js';
import type { EventSink } from '../../events/types.js';
import { opaqueDirs } from '../../kernel/fs.js';
import { applyChanges } from '../images/changes.js';
import { parseRunConfig, type Digest, type ImageConfigFile, type ImageRunConfig } from '../images/config.js';
import { toDockerConfig } from '../images/docker-json.js';
import type { ImageStore } from '../images/store.js';
import { folderSource, packTree } from '../images/tar-tree.js';
import { familiarString, parseReference, validateTag, withDefaultTag } from '../images/reference.js';
import type { Json } from '../../store/kv.js';
import { containerEvent } from './events.js';
import type { ContainerRecord } from './model.js';
import type { ContainerEngine } from './engine.js';

export interface CommitRequest {
  /** repo[:tag] to tag the image with (none: untagged). */
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  /** Dockerfile instructions (--change). */
  changes?: readonly string[];
  /** The Config the client sent (docker-py's conf); absent or empty: the container's. */
  config?: Json;
}

export interface CommitDeps {
  /** find, exclusive (a stopped container is held still), facts.dir (upper/ is its writable layer). */
  engine: Pick<ContainerEngine, 'find' | 'exclusive' | 'facts'>;
  images: Pick<ImageStore, 'createChild'>;
  events: EventSink;
}

type JsonObject = { [k: string]: Json };

function asObject(v: Json | undefined): JsonObject | undefined {
  return v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
}

function empty<T>(v: T[] | Record<string, unknown> | null | undefined | string): boolean {
  if (v === undefined || v === null) return true;
  return Array.isArray(v) || typeof v === 'string' ? v.length === 0 : Object.keys(v).length === 0;
}

/** moby's merge (daemon/commit.go): what the new config leaves empty comes from the container's. */
export function mergeCommitConfig(user: ImageRunConfig, base: ImageRunConfig): ImageRunConfig {
  const c: ImageRunConfig = { ...user };
  if (empty(c.User)) c.User = base.User ?? '';
  if (empty(c.ExposedPorts)) {
    if (base.ExposedPorts !== undefined) c.ExposedPorts = base.ExposedPorts;
  } else if (base.ExposedPorts !== undefined) c.ExposedPorts = { ...base.ExposedPorts, ...c.ExposedPorts };
  if (empty(c.Env)) {
    if (base.Env !== undefined) c.Env = base.Env;
  } else {
    const keys = new Set((c.Env ?? []).map((e) => e.split('=')[0]));
    c.Env = [...(c.Env ?? []), ...(base.Env ?? []).filter((e) => !keys.has(e.split('=')[0]))];
  }
  c.Labels = { ...(base.Labels ?? {}), ...(c.Labels ?? {}) };
  if (empty(c.Entrypoint)) {
    if (empty(c.Cmd)) c.Cmd = base.Cmd ?? null;
    if (c.Entrypoint === undefined || c.Entrypoint === null) c.Entrypoint = base.Entrypoint ?? null;
  }
  if (base.Healthcheck !== undefined) {
    const h = c.Healthcheck;
    c.Healthcheck = h === undefined ? base.Healthcheck : { ...base.Healthcheck, ...Object.fromEntries(Object.entries(h).filter(([, v]) => v !== 0 && !(Array.isArray(v) && v.length === 0))) };
  }
  if (empty(c.WorkingDir)) c.WorkingDir = base.WorkingDir ?? '';
  if (empty(c.Volumes)) {
    if (base.Volumes !== undefined) c.Volumes = base.Volumes;
  } else c.Volumes = { ...c.Volumes, ...(base.Volumes ?? {}) };
  if (empty(c.StopSignal) && base.StopSignal !== undefined) c.StopSignal = base.StopSignal;
  return c;
}

/** The container Config fields an image's config carries besides the run config, as Docker writes them. */
const CONTAINER_FIELDS = ['Hostname', 'Domainname', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'Tty', 'OpenStdin', 'StdinOnce', 'Image'];

/** The new image's `config`: Docker's Config shape, the container's own fields kept. */
function imageConfigJson(run: ImageRunConfig, container: JsonObject): ImageRunConfig {
  const out: Record<string, unknown> = toDockerConfig(run);
  for (const k of CONTAINER_FIELDS) if (container[k] !== undefined) out[k] = container[k];
  return out as ImageRunConfig;
}

/** RFC 3339 with nanoseconds, as Go writes a history entry's time. */
function nowRfc3339Nano(): string {
  return new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

/** The reference to tag the image with, checked as dockerd's RepoTagReference checks it. */
function commitTag(req: CommitRequest): { repo: string; tag?: string; ref: string } | undefined {
  if (req.repo === undefined || req.repo === '') return undefined;
  const parsed = parseReference(req.repo);
  if (parsed.digest !== undefined) throw invalid('cannot import digest reference');
  if (req.tag) validateTag(req.tag);
  const ref = withDefaultTag(req.tag ? { ...parsed, tag: req.tag } : parsed);
  return { repo: req.repo, ...(req.tag ? { tag: req.tag } : {}), ref: familiarString(ref) };
}

export async function commitContainer(deps: CommitDeps, name: string, req: CommitRequest): Promise<Digest> {
  const tag = commitTag(req);
  const c0 = deps.engine.find(name);
  if (c0.state.status === 'removing') throw conflict(`You cannot commit container ${c0.id} which is being removed`);
  if (c0.state.status === 'dead') throw conflict(`You cannot commit container ${c0.id} which is Dead`);
  const containerConfig = asObject(c0.docker.config) ?? {};
  const base = parseRunConfig(containerConfig) ?? {};
  const sent = asObject(req.config);
  const user = sent !== undefined && Object.keys(sent).length > 0 ? (parseRunConfig(sent) ?? {}) : base;
  const run = mergeCommitConfig(applyChanges(user, req.changes ?? []), base);
  const make = async (c: ContainerRecord): Promise<Digest> => {
    const upper = path.join(deps.engine.facts.dir(c.id), 'upper');
    const opaque = new Set((await opaqueDirs(upper).catch(() => [])).map((d) => path.relative(upper, d)));
    const layer = packTree(folderSource(upper, { whiteouts: true, opaque }), { rootName: '', includeRoot: false });
    const cmd = Array.isArray(containerConfig.Cmd) ? containerConfig.Cmd.filter((x): x is string => typeof x === 'string') : [];
    return deps.images.createChild({
      parent: c.spec.image.id as Digest,
      layer,
      ...(tag === undefined ? {} : { tag: { repo: tag.repo, ...(tag.tag === undefined ? {} : { tag: tag.tag }) } }),
      makeConfig: (parent, diffId) => {
        const created = nowRfc3339Nano();
        const history = { created, ...(req.author ? { author: req.author } : {}), created_by: cmd.join(' '), ...(req.comment ? { comment: req.comment } : {}), ...(diffId === undefined ? { empty_layer: true } : {}) };
        const cfg: ImageConfigFile & { container: string; container_config: Json } = {
          architecture: parent.architecture,
          ...(parent.variant !== undefined ? { variant: parent.variant } : {}),
          ...(req.author ? { author: req.author } : {}),
          ...(req.comment ? { comment: req.comment } : {}),
          config: imageConfigJson(run, containerConfig),
          container: c.id,
          container_config: containerConfig,
          created,
          history: [...(parent.history ?? []), history],
          os: parent.os || 'linux',
          rootfs: { type: 'layers', diff_ids: diffId === undefined ? parent.rootfs.diff_ids : [...parent.rootfs.diff_ids, diffId] },
        };
        return cfg;
      },
    });
  };
  // A stopped container is held still (no start, no removal) while its layer is read.
  const id = c0.state.status === 'running' ? await make(c0) : await deps.engine.exclusive(c0.id, make);
  containerEvent(deps.events, c0, 'commit', { comment: req.comment ?? '', imageID: id, imageRef: tag?.ref ?? '' });
  return id;
}
