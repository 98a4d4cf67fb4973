/**
 * Docker Engine API shapes for images: `GET /images/json` items and
 * `GET /images/{name}/json`. Pure functions of the store's records.
 */
import type { ImageRunConfig } from './config.js';
import type { ImageRecord } from './store.js';

export interface DockerImageSummary {
  Containers: number;
  Created: number;
  Id: string;
  Labels: Record<string, string> | null;
  ParentId: string;
  RepoDigests: string[];
  RepoTags: string[];
  SharedSize: number;
  Size: number;
  VirtualSize: number;
}

/** `docker images` row data. Dangling images have empty RepoTags (API >= 1.44 style). */
export function toDockerSummary(img: ImageRecord): DockerImageSummary {
  const created = img.config.created === undefined ? 0 : Math.floor(Date.parse(img.config.created) / 1000);
  return {
    Containers: -1,
    Created: Number.isFinite(created) ? created : 0,
    Id: img.id,
    Labels: img.config.config?.Labels ?? null,
    ParentId: img.parent ?? '',
    RepoDigests: img.repoDigests,
    RepoTags: img.repoTags,
    SharedSize: -1,
    Size: img.size,
    VirtualSize: img.size,
  };
}

/** The image's run config in the container.Config shape Docker's inspect shows. */
export function toDockerConfig(c: ImageRunConfig | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {
    Hostname: '',
    Domainname: '',
    User: c?.User ?? '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: c?.Env ?? null,
    Cmd: c?.Cmd ?? null,
    Image: '',
    Volumes: c?.Volumes ?? null,
    WorkingDir: c?.WorkingDir ?? '',
    Entrypoint: c?.Entrypoint ?? null,
    OnBuild: c?.OnBuild ?? null,
    Labels: c?.Labels ?? null,
  };
  if (c?.ExposedPorts !== undefined) out.ExposedPorts = c.ExposedPorts;
  if (c?.StopSignal !== undefined) out.StopSignal = c.StopSignal;
  if (c?.Healthcheck !== undefined) out.Healthcheck = c.Healthcheck;
  if (c?.ArgsEscaped !== undefined) out.ArgsEscaped = c.ArgsEscaped;
  if (c?.Shell !== undefined) out.Shell = c.Shell;
  return out;
}

/**
 * `docker image inspect` data. `layerDirs` are the image's layer directories, lowest
 * first (ImageStore.layerDirs), shown as overlay2 GraphDriver data.
 */
export function toDockerInspect(img: ImageRecord, layerDirs: readonly string[]): Record<string, unknown> {
  const cfg = img.config;
  const topFirst = [...layerDirs].reverse();
  const data: Record<string, string> = {};
  const upper = topFirst[0];
  if (upper !== undefined) data.UpperDir = upper;
  if (topFirst.length > 1) data.LowerDir = topFirst.slice(1).join(':');
  const out: Record<string, unknown> = {
    Id: img.id,
    RepoTags: img.repoTags,
    RepoDigests: img.repoDigests,
    Parent: img.parent ?? '',
    Comment: cfg.comment ?? '',
    Created: cfg.created ?? '',
    DockerVersion: cfg.docker_version ?? '',
    Author: cfg.author ?? '',
    Config: toDockerConfig(cfg.config),
    Architecture: cfg.architecture,
    Os: cfg.os,
    Size: img.size,
    VirtualSize: img.size,
    GraphDriver: { Data: data, Name: 'overlay2' },
    RootFS: { Type: 'layers', Layers: cfg.rootfs.diff_ids },
    Metadata: { LastTagTime: img.lastTagTime ?? '0001-01-01T00:00:00Z' },
  };
  if (cfg.variant !== undefined) out.Variant = cfg.variant;
  return out;
}
