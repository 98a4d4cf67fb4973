/**
 * A build step's image, as the classic builder commits it: the running config as
 * `config`, the config the step probed the cache with as `container_config` (the cache
 * key, see cache.ts), the parent recorded, and a history entry whose created_by is the
 * probe's command (`empty_layer` when the step added no files).
 */
import type { Json } from '../../store/kv.js';
import { parseRunConfig, type Digest, type ImageConfigFile, type ImageRunConfig } from '../images/config.js';
import { toDockerConfig } from '../images/docker-json.js';
import type { CacheCandidate } from './cache.js';
import type { BuildImages } from './ports.js';

export interface StepCommit {
  /** The image the step started from (undefined: scratch). */
  parent: Digest | undefined;
  /** The image's config after the step. */
  run: ImageRunConfig;
  /** The cache probe: `run` with the step's command as Cmd. */
  probe: ImageRunConfig;
  /** The step's files; none for a step that only changes the config. */
  layer?: AsyncIterable<Buffer>;
  /** The RUN container the layer came from. */
  container?: string;
  /** MAINTAINER's author, if set. */
  author?: string;
}

/** RFC 3339 with nanoseconds, as Go writes it. */
function nowRfc3339Nano(): string {
  return new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

function dockerConfig(c: ImageRunConfig, parent: Digest | undefined): Json {
  return { ...toDockerConfig(c), Image: parent ?? '' } as Json;
}

/** Commit the step's image; returns its ID. */
export async function commitStep(images: BuildImages, step: StepCommit): Promise<Digest> {
  return images.createChild({
    parent: step.parent,
    ...(step.layer === undefined ? {} : { layer: step.layer }),
    makeConfig: (parent, diffId) => {
      const created = nowRfc3339Nano();
      const createdBy = (step.probe.Cmd ?? []).join(' ');
      const author = step.author ?? parent.author;
      const cfg: ImageConfigFile & { container?: string; container_config: Json } = {
        architecture: parent.architecture,
        ...(parent.variant !== undefined ? { variant: parent.variant } : {}),
        ...(author !== undefined && author !== '' ? { author } : {}),
        config: dockerConfig(step.run, step.parent) as ImageRunConfig,
        ...(step.container !== undefined ? { container: step.container } : {}),
        container_config: dockerConfig(step.probe, step.parent),
        created,
        history: [...(parent.history ?? []), { created, created_by: createdBy, ...(diffId === undefined ? { empty_layer: true } : {}) }],
        os: parent.os || 'linux',
        rootfs: { type: 'layers', diff_ids: diffId === undefined ? parent.rootfs.diff_ids : [...parent.rootfs.diff_ids, diffId] },
      };
      return cfg;
    },
  });
}

/** The stored images as the cache sees them (built ones carry a container_config). */
export function cacheCandidates(images: BuildImages): CacheCandidate[] {
  const out: CacheCandidate[] = [];
  for (const img of images.list()) {
    let containerConfig: ImageRunConfig | undefined;
    try {
      const raw: unknown = JSON.parse(images.rawConfig(img.id).toString());
      const cc = typeof raw === 'object' && raw !== null && 'container_config' in raw ? raw.container_config : undefined;
      containerConfig = parseRunConfig(cc);
    } catch {
      containerConfig = undefined;
    }
    out.push({ id: img.id, parent: img.parent, created: img.config.created ?? '', containerConfig });
  }
  return out;
}
