/**
 * Reading `docker load` input once it is unpacked into a directory: the docker-save
 * format (manifest.json: Config, RepoTags, Layers — Docker >= 25 writes it inside an
 * OCI layout, older versions beside <id>/layer.tar) and a plain OCI image layout
 * (oci-layout, index.json, blobs/sha256/…). Every path read from the archive is
 * resolved inside the unpack directory, symlinks included; nothing outside is read.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { invalid, notImplemented } from '../../errors.js';
import { goArch, isDigest, type Digest } from './config.js';
import { errCode } from './fsutil.js';
import { safeRelative } from './extract.js';
import { tryParseReference, withDefaultTag, familiarString } from './reference.js';
import { byCodeUnit } from '../../util/order.js';

export interface ArchiveLayer {
  /** Absolute path of the layer blob (tar, maybe gzip) inside the unpack dir. */
  file: string;
}

interface ArchiveImageBase {
  /** Familiar references to tag the image with (may be empty). */
  repoTags: string[];
  /** Lowest layer first. */
  layers: ArchiveLayer[];
}

/** An image whose config is in the archive (docker-save >= 1.10, OCI). */
export interface ConfigArchiveImage extends ArchiveImageBase {
  kind: 'config';
  /** Absolute path of the config JSON inside the unpack dir. */
  configFile: string;
}

/** A pre-1.10 image (v1 JSON per layer): its config is built once the diff-ids are known. */
export interface LegacyArchiveImage extends ArchiveImageBase {
  kind: 'legacy';
  makeConfig: (diffIds: readonly Digest[]) => Buffer;
}

export type ArchiveImage = ConfigArchiveImage | LegacyArchiveImage;

const MT_OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const MT_DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const MT_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const MT_DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const REF_NAME = 'org.opencontainers.image.ref.name';
const CONTAINERD_NAME = 'io.containerd.image.name';

/**
 * `rel` (a path named by the archive) as an absolute path inside `root`, following
 * symlinks only while they stay inside `root`. Throws InvalidParameter otherwise.
 */
export async function resolveInside(root: string, rel: string): Promise<string> {
  const safe = safeRelative(rel);
  let real: string;
  try {
    real = await fs.realpath(path.join(root, safe));
  } catch (e: unknown) {
    if (errCode(e) === 'ENOENT') throw invalid(`invalid archive: ${rel} is missing`);
    throw e;
  }
  const realRoot = await fs.realpath(root);
  if (real !== realRoot && !real.startsWith(`${realRoot}/`)) throw invalid(`invalid archive: ${rel} points outside the archive`);
  return real;
}

async function readJsonIn(root: string, rel: string): Promise<unknown> {
  const file = await resolveInside(root, rel);
  const raw = await fs.readFile(file, 'utf8');
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw invalid(`invalid archive: ${rel} is not valid JSON`);
  }
}

async function has(root: string, rel: string): Promise<boolean> {
  try {
    await fs.lstat(path.join(root, rel));
    return true;
  } catch {
    return false;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** Familiar, tagged form of a name from an archive; undefined when it is no reference. */
function normalizeName(name: string): string | undefined {
  const ref = tryParseReference(name);
  return ref === undefined ? undefined : familiarString(withDefaultTag(ref));
}

async function fromManifestJson(root: string): Promise<ArchiveImage[]> {
  const manifest = await readJsonIn(root, 'manifest.json');
  if (!Array.isArray(manifest)) throw invalid('invalid archive: manifest.json is not a list');
  const out: ArchiveImage[] = [];
  for (const m of manifest) {
    if (!isRecord(m) || typeof m.Config !== 'string') throw invalid('invalid archive: manifest.json entry without Config');
    const repoTags: string[] = [];
    for (const t of strings(m.RepoTags)) {
      const n = normalizeName(t);
      if (n === undefined) throw invalid(`invalid archive: invalid reference format: ${t}`);
      repoTags.push(n);
    }
    const layers: ArchiveLayer[] = [];
    for (const l of strings(m.Layers)) layers.push({ file: await resolveInside(root, l) });
    out.push({ kind: 'config', configFile: await resolveInside(root, m.Config), repoTags, layers });
  }
  return out;
}

function blobPath(digest: unknown): string {
  if (typeof digest !== 'string' || !isDigest(digest)) throw invalid(`invalid archive: unsupported blob digest ${JSON.stringify(digest)}`);
  return `blobs/sha256/${digest.slice('sha256:'.length)}`;
}

interface Descriptor {
  mediaType: string;
  digest: string;
  platform?: { architecture?: string; os?: string };
  annotations: Record<string, string>;
}

function descriptors(v: unknown): Descriptor[] {
  const list = isRecord(v) && Array.isArray(v.manifests) ? v.manifests : [];
  return list.filter(isRecord).map((d) => {
    const ann: Record<string, string> = {};
    if (isRecord(d.annotations)) for (const [k, a] of Object.entries(d.annotations)) if (typeof a === 'string') ann[k] = a;
    const desc: Descriptor = { mediaType: typeof d.mediaType === 'string' ? d.mediaType : '', digest: typeof d.digest === 'string' ? d.digest : '', annotations: ann };
    if (isRecord(d.platform)) {
      const p = d.platform;
      desc.platform = {};
      if (typeof p.architecture === 'string') desc.platform.architecture = p.architecture;
      if (typeof p.os === 'string') desc.platform.os = p.os;
    }
    return desc;
  });
}

/** From an index, the manifest for this platform (or the only one). */
function pickPlatform(list: Descriptor[]): Descriptor | undefined {
  const arch = goArch();
  return list.find((d) => d.platform?.os === 'linux' && d.platform.architecture === arch) ?? (list.length === 1 ? list[0] : list.find((d) => d.platform === undefined));
}

async function resolveManifest(root: string, desc: Descriptor, depth = 0): Promise<Record<string, unknown>> {
  if (depth > 4) throw invalid('invalid archive: index nesting too deep');
  const doc = await readJsonIn(root, blobPath(desc.digest));
  if (!isRecord(doc)) throw invalid('invalid archive: manifest is not an object');
  const mt = typeof doc.mediaType === 'string' ? doc.mediaType : desc.mediaType;
  if (mt === MT_OCI_INDEX || mt === MT_DOCKER_LIST || (mt === '' && Array.isArray(doc.manifests))) {
    const chosen = pickPlatform(descriptors(doc));
    if (chosen === undefined) throw invalid(`invalid archive: no manifest for linux/${goArch()}`);
    return resolveManifest(root, chosen, depth + 1);
  }
  if (mt !== MT_OCI_MANIFEST && mt !== MT_DOCKER_MANIFEST && mt !== '') throw invalid(`invalid archive: unsupported manifest type ${mt}`);
  return doc;
}

function layerAllowed(mediaType: string): void {
  if (mediaType.includes('zstd')) throw notImplemented(`zstd-compressed layers are not supported (${mediaType})`);
  if (mediaType.includes('nondistributable') || mediaType.includes('foreign')) {
    throw notImplemented(`foreign layers are not supported (${mediaType})`);
  }
}

async function fromOciLayout(root: string): Promise<ArchiveImage[]> {
  const index = await readJsonIn(root, 'index.json');
  const byManifest = new Map<string, ArchiveImage>();
  for (const desc of descriptors(index)) {
    const manifest = await resolveManifest(root, desc);
    const config = manifest.config;
    if (!isRecord(config)) throw invalid('invalid archive: manifest without config');
    const key = String(config.digest);
    let img = byManifest.get(key);
    if (img === undefined) {
      const layers: ArchiveLayer[] = [];
      for (const l of Array.isArray(manifest.layers) ? manifest.layers.filter(isRecord) : []) {
        layerAllowed(typeof l.mediaType === 'string' ? l.mediaType : '');
        layers.push({ file: await resolveInside(root, blobPath(l.digest)) });
      }
      img = { kind: 'config', configFile: await resolveInside(root, blobPath(config.digest)), repoTags: [], layers };
      byManifest.set(key, img);
    }
    // A full reference names the image; a bare ref.name ("latest") has no repository.
    const name = desc.annotations[CONTAINERD_NAME] ?? desc.annotations[REF_NAME];
    if (name !== undefined && (name.includes('/') || name.includes(':'))) {
      const n = normalizeName(name);
      if (n !== undefined && !img.repoTags.includes(n)) img.repoTags.push(n);
    }
  }
  return [...byManifest.values()];
}

const V1_ID = /^[a-f0-9]{64}$/;

/** The v1 chain ending at `top`, lowest first: [id, v1 JSON] pairs. */
async function v1Chain(root: string, top: string): Promise<[string, Record<string, unknown>][]> {
  const chain: [string, Record<string, unknown>][] = [];
  const seen = new Set<string>();
  for (let id: string | undefined = top; id !== undefined && id !== ''; ) {
    if (!V1_ID.test(id) || seen.has(id) || seen.size > 1000) throw invalid(`invalid archive: bad layer id ${JSON.stringify(id)}`);
    seen.add(id);
    const json = await readJsonIn(root, `${id}/json`);
    if (!isRecord(json)) throw invalid(`invalid archive: ${id}/json is not an object`);
    chain.push([id, json]);
    id = typeof json.parent === 'string' ? json.parent : undefined;
  }
  return chain.reverse();
}

/** History entry of a v1 image, as Docker's legacy loader derives it. */
function v1History(v1: Record<string, unknown>): Record<string, unknown> {
  const h: Record<string, unknown> = { created: typeof v1.created === 'string' ? v1.created : '' };
  if (typeof v1.author === 'string' && v1.author !== '') h.author = v1.author;
  const cc = v1.container_config;
  const cmd = isRecord(cc) ? strings(cc.Cmd) : [];
  if (cmd.length > 0) h.created_by = cmd.join(' ');
  if (typeof v1.comment === 'string' && v1.comment !== '') h.comment = v1.comment;
  if (v1.throwaway === true) h.empty_layer = true;
  return h;
}

/** Pre-1.10 docker-save: `repositories` {repo: {tag: top v1 id}} and <id>/{json,layer.tar}. */
async function fromLegacy(root: string): Promise<ArchiveImage[]> {
  const repos = await readJsonIn(root, 'repositories');
  if (!isRecord(repos)) throw invalid('invalid archive: repositories is not an object');
  const tagsByTop = new Map<string, string[]>();
  for (const [repo, tags] of Object.entries(repos)) {
    if (!isRecord(tags)) continue;
    for (const [tag, id] of Object.entries(tags)) {
      const name = normalizeName(`${repo}:${tag}`);
      if (name === undefined || typeof id !== 'string') throw invalid(`invalid archive: invalid reference format: ${repo}:${tag}`);
      tagsByTop.set(id, [...(tagsByTop.get(id) ?? []), name]);
    }
  }
  const out: ArchiveImage[] = [];
  for (const [top, repoTags] of tagsByTop) {
    const chain = await v1Chain(root, top);
    const layers: ArchiveLayer[] = [];
    for (const [id] of chain) layers.push({ file: await resolveInside(root, `${id}/layer.tar`) });
    const topJson = chain[chain.length - 1]?.[1] ?? {};
    const makeConfig = (diffIds: readonly Digest[]): Buffer => {
      // Docker's MakeConfigFromV1Config: the top v1 JSON minus v1 fields, plus rootfs and history.
      const c: Record<string, unknown> = { ...topJson };
      for (const k of ['id', 'parent', 'Size', 'parent_id', 'layer_id', 'throwaway']) delete c[k];
      c.rootfs = { type: 'layers', diff_ids: diffIds };
      c.history = chain.map(([, v1]) => v1History(v1));
      const sorted = Object.fromEntries(Object.entries(c).sort(([a], [b]) => byCodeUnit(a, b)));
      return Buffer.from(JSON.stringify(sorted));
    };
    out.push({ kind: 'legacy', makeConfig, repoTags, layers });
  }
  return out;
}

/** The images of an unpacked `docker load` archive. */
export async function readArchive(root: string): Promise<ArchiveImage[]> {
  if (await has(root, 'manifest.json')) return fromManifestJson(root);
  if (await has(root, 'index.json')) return fromOciLayout(root);
  if (await has(root, 'repositories')) return fromLegacy(root);
  throw invalid('invalid archive: no manifest.json or index.json found');
}
