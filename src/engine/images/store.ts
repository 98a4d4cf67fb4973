/**
 * The local image store: images, their tags, and the layers they share.
 *
 * Layout under <dataRoot>/images/:
 *   repositories.json            tags/digests -> image IDs (see refstore.ts); atomic writes
 *   imagedb/content/<hex>        an image config, byte for byte; <hex> = sha256(bytes) = the ID
 *   imagedb/metadata/<hex>.json  {"lastTagTime": RFC 3339, "parent": image ID (a commit's)}
 *   imagedb/retained/<hex>       config of an image removed (forced) while containers
 *                                still used it: its layers stay until gc() finds no user
 *   layers/<diff-id hex>/root/   an extracted layer, shared by every image using it
 *   layers/<diff-id hex>/meta.json
 *   tmp/                         staging for extraction, `docker load`, pulls and pushes (emptied on open)
 *   distribution/v2metadata/     which registry blobs hold each layer (distribution/metadata.ts)
 *
 * All of it is loaded into memory on open (configs are small), so lookups are
 * synchronous. Changes run one at a time under one lock; long work (extraction) runs
 * outside it, and freshly added layers are pinned until their image is written.
 */
import * as fs from 'node:fs/promises';
import { Readable } from 'node:stream';
import * as path from 'node:path';
import { conflict, notFound } from '../../errors.js';
import { Serial } from '../../util/serial.js';
import { busyboxApplets, busyboxConfig, busyboxLayerEntries, readStaticBusybox, BUSYBOX_PATH } from './busybox.js';
import {
  chainIds,
  encodeImageConfig,
  goArch,
  hexOf,
  isDigest,
  parseImageConfig,
  sha256Digest,
  shortId,
  type Digest,
  type ImageConfigFile,
} from './config.js';
import { errCode, readIfExists, writeFileAtomic } from './fsutil.js';
import { LayerStore } from './layers.js';
import {
  familiarName,
  familiarString,
  parseReference,
  tagTarget,
  tryParseReference,
  withDefaultTag,
  type ImageRef,
} from './reference.js';
import { RefStore } from './refstore.js';
import { packTar } from './tar-write.js';
import { byCodeUnit } from '../../util/order.js';
import { conflictError, deleteConflict, isImageIdPrefix, isSingleReference, type ConflictMask, type DeleteConflict } from './delete-rules.js';
import { importImage, loadArchive, type IntakeTarget } from './load.js';
import type { PullTarget } from './distribution/pull.js';
import { EMPTY_LAYER, type ChildImage, type ImageDeleteItem, type ImageRecord, type ImageStoreOptions, type ImageUsers, type ImportOptions, type LoadEvent, type LoadResult } from './types.js';
export { EMPTY_LAYER } from './types.js';
export type { ChildImage, ContainerUsingImage, ImageDeleteItem, ImageRecord, ImageStoreOptions, ImageUsers, ImportOptions, LoadEvent, LoadResult } from './types.js';
import { NO_EVENTS, type EventSink } from '../../events/types.js';

/** What a child of no image (a build's `FROM scratch`) starts from. */
const SCRATCH_CONFIG: ImageConfigFile = { architecture: goArch(), os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, history: [] };

interface StoredImage {
  raw: Buffer;
  config: ImageConfigFile;
  lastTagTime: string | undefined;
  parent?: Digest;
}

export class ImageStore {
  private readonly images = new Map<Digest, StoredImage>();
  private readonly retained = new Map<Digest, ImageConfigFile>();
  private readonly layerSizes = new Map<Digest, number>();
  private users: ImageUsers;
  private readonly busyboxPath: string;
  private readonly events: EventSink;
  /** Problems found on open (unreadable configs …), for the daemon log. */
  readonly warnings: string[] = [];

  private constructor(
    private readonly root: string,
    private readonly lock: Serial,
    private readonly refs: RefStore,
    private readonly layers: LayerStore,
    opts: ImageStoreOptions,
  ) {
    this.users = opts.users ?? (() => []);
    this.busyboxPath = opts.busyboxPath ?? BUSYBOX_PATH;
    this.events = opts.events ?? NO_EVENTS;
  }

  /** An image event as dockerd's LogImageEvent: the image's labels (while it exists) and `name`. */
  private event(action: string, id: string, name: string): void {
    const found = this.lookup(id);
    const labels = found === undefined ? undefined : this.images.get(found)?.config.config?.Labels;
    this.events.emit('image', action, id, { ...labels, name });
  }

  /** Open (creating if needed) the store under <dataRoot>/images and drop orphaned layers. */
  static async open(opts: ImageStoreOptions): Promise<ImageStore> {
    const root = path.join(opts.dataRoot, 'images');
    for (const d of ['imagedb/content', 'imagedb/metadata', 'imagedb/retained']) {
      await fs.mkdir(path.join(root, d), { recursive: true, mode: 0o700 });
    }
    const lock = new Serial();
    const refs = await RefStore.open(path.join(root, 'repositories.json'));
    const layers = new LayerStore(root, lock);
    await layers.init();
    const store = new ImageStore(root, lock, refs, layers, opts);
    await store.loadAll();
    // Only layers here: retained images wait for gc(), once the engine can say who uses them.
    await lock.run(() => store.collectLayersLocked());
    return store;
  }

  /** Set the engine's container lookup (when the engine is built after the store). */
  setUsers(users: ImageUsers): void {
    this.users = users;
  }

  private contentPath(id: Digest, dir: 'content' | 'retained' = 'content'): string {
    return path.join(this.root, 'imagedb', dir, hexOf(id));
  }

  private metadataPath(id: Digest): string {
    return path.join(this.root, 'imagedb', 'metadata', `${hexOf(id)}.json`);
  }

  private async readConfigs(dir: 'content' | 'retained'): Promise<Map<Digest, Buffer>> {
    const out = new Map<Digest, Buffer>();
    for (const name of await fs.readdir(path.join(this.root, 'imagedb', dir))) {
      const id = `sha256:${name}`;
      if (!isDigest(id)) continue;
      const raw = await fs.readFile(this.contentPath(id, dir));
      if (sha256Digest(raw) !== id) {
        this.warnings.push(`image config ${name} does not match its digest; ignored`);
        continue;
      }
      out.set(id, raw);
    }
    return out;
  }

  private async loadAll(): Promise<void> {
    for (const [id, raw] of await this.readConfigs('content')) {
      try {
        const meta = await readIfExists(this.metadataPath(id));
        const parsed: unknown = meta === undefined ? undefined : JSON.parse(meta.toString());
        const lastTagTime = typeof parsed === 'object' && parsed !== null && 'lastTagTime' in parsed && typeof parsed.lastTagTime === 'string' ? parsed.lastTagTime : undefined;
        const parent = typeof parsed === 'object' && parsed !== null && 'parent' in parsed && typeof parsed.parent === 'string' && isDigest(parsed.parent) ? parsed.parent : undefined;
        this.images.set(id, { raw, config: parseImageConfig(raw), lastTagTime, ...(parent === undefined ? {} : { parent }) });
      } catch (e: unknown) {
        this.warnings.push(`image ${shortId(id)}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    for (const [id, raw] of await this.readConfigs('retained')) {
      try {
        this.retained.set(id, parseImageConfig(raw));
      } catch {
        this.warnings.push(`retained image ${shortId(id)}: unreadable config`);
      }
    }
    for (const d of await this.layers.list()) {
      const meta = await this.layers.meta(d);
      if (meta !== undefined) this.layerSizes.set(d, meta.size);
    }
  }

  // ------------------------------------------------------------------ lookups

  /** The image ID `refOrId` names (tag, digest ref, full ID, ID prefix), or undefined. */
  lookup(refOrId: string): Digest | undefined {
    if (isDigest(refOrId)) return this.images.has(refOrId) ? refOrId : undefined;
    const ref = tryParseReference(refOrId);
    if (ref !== undefined) {
      // A digest names the image whatever tag stands beside it (name:tag@sha256:…, as a service pins it), as in dockerd.
      const id = this.refs.get(ref.digest !== undefined ? { domain: ref.domain, path: ref.path, digest: ref.digest } : withDefaultTag(ref));
      if (id !== undefined && this.images.has(id)) return id;
    }
    const m = /^(?:sha256:)?([a-f0-9]{1,64})$/.exec(refOrId);
    if (m !== null) {
      const prefix = m[1] ?? '';
      const hits = [...this.images.keys()].filter((id) => hexOf(id).startsWith(prefix));
      if (hits.length === 1) return hits[0];
    }
    return undefined;
  }

  /** The image `refOrId` names; NotFound `No such image: busybox:latest` otherwise. */
  resolve(refOrId: string): ImageRecord {
    const id = this.lookup(refOrId);
    if (id === undefined) {
      const ref = tryParseReference(refOrId);
      throw notFound(`No such image: ${ref === undefined ? refOrId : familiarString(withDefaultTag(ref))}`);
    }
    return this.record(id);
  }

  /** `GET /images/{name}/json`: the same as resolve(), named for the API verb. */
  inspect(refOrId: string): ImageRecord {
    return this.resolve(refOrId);
  }

  /** The image with this exact ID, if stored. */
  get(id: Digest): ImageRecord | undefined {
    return this.images.has(id) ? this.record(id) : undefined;
  }

  /** Every image, newest first (`docker images`). */
  list(): ImageRecord[] {
    return [...this.images.keys()].map((id) => this.record(id)).sort((a, b) => byCodeUnit(b.config.created ?? '', a.config.created ?? ''));
  }

  private record(id: Digest): ImageRecord {
    const img = this.images.get(id);
    if (img === undefined) throw notFound(`No such image: ${id}`);
    const refs = this.refs.refsOf(id);
    return {
      id,
      config: img.config,
      repoTags: refs.filter((r) => !r.canonical).map((r) => r.ref),
      repoDigests: refs.filter((r) => r.canonical).map((r) => r.ref),
      size: img.config.rootfs.diff_ids.reduce((n, d) => n + (this.layerSizes.get(d) ?? 0), 0),
      lastTagTime: img.lastTagTime,
      ...(img.parent !== undefined && this.images.has(img.parent) ? { parent: img.parent } : {}),
    };
  }

  /** The config of a stored image, byte for byte (its digest is the image ID). */
  rawConfig(id: Digest): Buffer {
    const img = this.images.get(id);
    if (img === undefined) throw notFound(`No such image: ${id}`);
    return img.raw;
  }

  /** A layer's archive as it was stored (see LayerStore.archive). */
  async layerArchive(diffId: Digest): Promise<{ size: number; chunks: AsyncIterable<Buffer> }> {
    return this.layers.archive(diffId);
  }

  /** Familiar `repo:tag` references of the repository `name` (docker save of a bare name). */
  tagsOfRepository(name: string): { ref: string; id: Digest }[] {
    const out: { ref: string; id: Digest }[] = [];
    for (const id of this.images.keys()) {
      for (const r of this.refs.refsOf(id)) if (!r.canonical && r.repo === name) out.push({ ref: r.ref, id });
    }
    return out;
  }

  /**
   * The extracted layer directories of an image, lowest layer first (overlayfs wants
   * them reversed in `lowerdir`). Works for images removed with force while a container
   * still uses them. NotFound for an unknown ID.
   */
  layerDirs(imageId: string): string[] {
    const cfg = isDigest(imageId) ? (this.images.get(imageId)?.config ?? this.retained.get(imageId)) : undefined;
    if (cfg === undefined) throw notFound(`No such image: ${imageId}`);
    return cfg.rootfs.diff_ids.map((d) => this.layers.rootPath(d));
  }

  /** Bytes of file data in one layer (0 for a layer not stored). */
  layerSize(diffId: Digest): number {
    return this.layerSizes.get(diffId) ?? 0;
  }

  /** Bytes of file data over every stored layer, each once (system df's LayersSize). */
  layersSize(): number {
    let n = 0;
    for (const size of this.layerSizes.values()) n += size;
    return n;
  }

  // ------------------------------------------------------------------ writes

  /** Store a config and point `refs` at it. Under the lock. */
  private async commitLocked(raw: Buffer, refs: readonly ImageRef[]): Promise<{ id: Digest; renamed: { ref: string; old: Digest }[] }> {
    const id = sha256Digest(raw);
    const config = parseImageConfig(raw);
    if (!this.images.has(id)) {
      await writeFileAtomic(this.contentPath(id), raw);
      this.images.set(id, { raw, config, lastTagTime: undefined });
      for (const d of config.rootfs.diff_ids) {
        if (!this.layerSizes.has(d)) this.layerSizes.set(d, (await this.layers.meta(d))?.size ?? 0);
      }
    }
    const renamed: { ref: string; old: Digest }[] = [];
    if (refs.length > 0) {
      for (const ref of refs) {
        const old = this.refs.set(ref, id);
        if (old !== undefined) renamed.push({ ref: familiarString(ref), old });
      }
      await this.refs.save();
      await this.touchTagTime(id);
    }
    return { id, renamed };
  }

  private async touchTagTime(id: Digest): Promise<void> {
    const img = this.images.get(id);
    if (img === undefined) return;
    img.lastTagTime = new Date().toISOString();
    await this.writeMetadata(id, img);
  }

  private async writeMetadata(id: Digest, img: StoredImage): Promise<void> {
    await writeFileAtomic(this.metadataPath(id), JSON.stringify({ lastTagTime: img.lastTagTime, ...(img.parent === undefined ? {} : { parent: img.parent }) }));
  }

  /**
   * `docker commit`: the parent's layers and one more (left out when empty, as Docker
   * does), a config from makeConfig, the parent recorded, the tag set. Emits Docker's
   * image create (and tag) events. Returns the image ID.
   */
  async createChild(child: ChildImage): Promise<Digest> {
    const refs = child.tag === undefined ? [] : [tagTarget(child.tag.repo, child.tag.tag)];
    const parent = child.parent === undefined ? { config: SCRATCH_CONFIG } : (this.images.get(child.parent) ?? (this.retained.has(child.parent) ? { config: this.retained.get(child.parent)! } : undefined));
    if (parent === undefined) throw notFound(`No such image: ${child.parent}`);
    const layer = child.layer === undefined ? undefined : await this.layers.add(child.layer);
    try {
      const diffId = layer === undefined || layer.diffId === EMPTY_LAYER ? undefined : layer.diffId;
      const raw = encodeImageConfig(child.makeConfig(parent.config, diffId));
      const id = await this.lock.run(async () => {
        const made = (await this.commitLocked(raw, [])).id;
        const img = this.images.get(made);
        if (img !== undefined && child.parent !== undefined && this.images.has(child.parent)) {
          img.parent = child.parent;
          await this.writeMetadata(made, img);
        }
        return made;
      });
      this.event('create', id, id);
      if (refs.length > 0) {
        await this.lock.run(async () => {
          for (const ref of refs) this.refs.set(ref, id);
          await this.refs.save();
          await this.touchTagTime(id);
        });
        for (const ref of refs) this.event('tag', id, familiarString(ref));
      }
      return id;
    } finally {
      if (layer !== undefined) this.layers.release([layer.diffId]);
    }
  }

  /** `docker tag SOURCE TARGET`: TARGET is `repo[:tag]` (default tag latest). Idempotent. */
  async tag(source: string, target: string): Promise<void> {
    const ref = tagTarget(target);
    await this.lock.run(async () => {
      const { id } = this.resolve(source);
      this.refs.set(ref, id);
      await this.refs.save();
      await this.touchTagTime(id);
      this.event('tag', id, familiarString(ref));
    });
  }

  /** `docker import` (load.ts): a rootfs tarball becomes a one-layer image; its ID. */
  async importImage(source: AsyncIterable<Buffer | Uint8Array | string>, opts: ImportOptions = {}): Promise<Digest> {
    return importImage(this.intake('import'), source, opts);
  }

  /**
   * `busybox` out of the box: if `tag` (default busybox:latest) names no image yet,
   * synthesise one from the host's static busybox and tag it. The image ID is the same
   * for every tag. An existing tag is left as it is. Returns the image ID.
   */
  async ensureBusybox(tag = 'busybox:latest'): Promise<Digest> {
    const id = await this.busybox(tagTarget(tag));
    this.event('pull', familiarString(tagTarget(tag)), familiarName(tagTarget(tag)));
    return id;
  }

  private async busybox(ref: ImageRef): Promise<Digest> {
    const existing = this.refs.get(ref);
    if (existing !== undefined && this.images.has(existing)) return existing;
    const { binary, mtime } = await readStaticBusybox(this.busyboxPath);
    const tar = packTar(busyboxLayerEntries(binary, await busyboxApplets(this.busyboxPath), mtime));
    const diffId = sha256Digest(tar);
    if (!(await this.layers.pinIfPresent(diffId))) await this.layers.add(Readable.from([tar]), { expect: diffId });
    try {
      const raw = encodeImageConfig(busyboxConfig(diffId, mtime));
      return await this.lock.run(async () => {
        const current = this.refs.get(ref);
        if (current !== undefined && this.images.has(current)) return current;
        return (await this.commitLocked(raw, [ref])).id;
      });
    } finally {
      this.layers.release([diffId]);
    }
  }

  /**
   * `docker load`: a docker-save archive (any version) or an OCI image layout, plain
   * or gzip (load.ts). `onEvent` gets layer progress and Docker's messages as they happen.
   */
  async loadArchive(source: AsyncIterable<Buffer | Uint8Array | string>, onEvent?: (e: LoadEvent) => void): Promise<LoadResult> {
    return loadArchive(this.intake('load'), source, onEvent);
  }

  /** What a registry pull writes through (distribution/pull.ts). */
  pullTarget(): PullTarget {
    return {
      layers: this.layers,
      lookupRef: (ref) => this.refs.get(ref),
      hasImage: (id) => this.images.has(id),
      commit: async (raw, refs) => this.lock.run(async () => (await this.commitLocked(raw, refs)).id),
      point: async (id, refs) => this.lock.run(async () => this.images.has(id) && (await this.commitLocked(this.images.get(id)!.raw, refs), true)),
      collect: async () => void (await this.gc()),
    };
  }

  /** Docker's pull event for a reference pulled (`busybox:latest`, named `busybox`). */
  pulled(ref: ImageRef): void {
    this.event('pull', familiarString(ref), familiarName(ref));
  }

  /** Docker's push event. */
  pushed(ref: ImageRef): void {
    this.event('push', familiarString(ref), familiarName(ref));
  }

  /** What load and import write through, and the event each image they make gets. */
  private intake(action: 'load' | 'import'): IntakeTarget {
    return {
      layers: this.layers,
      commit: async (raw, refs) => this.lock.run(async () => this.commitLocked(raw, refs)),
      made: (id) => this.event(action, id, id),
    };
  }

  // ------------------------------------------------------------------ removal

  private checkConflict(id: Digest, mask: ConflictMask): DeleteConflict | undefined {
    return deleteConflict(mask, { hasChild: [...this.images.values()].some((img) => img.parent === id), users: this.users(id), referenced: this.refs.refsOf(id).length > 0 });
  }

  /**
   * `docker rmi`, with Docker's rules: a name untags (refused without force when it is
   * the image's last reference and a container uses the image); the image itself is
   * deleted when no reference remains and nothing prevents it; layers no image needs
   * are deleted. Returns Docker's Untagged/Deleted records.
   */
  async remove(refOrId: string, opts: { force?: boolean; noprune?: boolean } = {}): Promise<ImageDeleteItem[]> {
    const force = opts.force === true;
    return this.lock.run(async () => {
      const id = this.resolve(refOrId).id;
      const records: ImageDeleteItem[] = [];
      const pruned: Digest[] = [];
      try {
        let repoRefs = this.refs.refsOf(id);
        let quiet = false;
        if (!isImageIdPrefix(id, refOrId)) {
          if (!force && isSingleReference(repoRefs)) {
            const user = this.users(id)[0];
            if (user !== undefined) {
              throw conflict(
                `conflict: unable to remove repository reference "${refOrId}" (must force) - container ${shortId(user.id)} is using its referenced image ${shortId(id)}`,
              );
            }
          }
          const parsed = withDefaultTag(parseReference(refOrId));
          const key = familiarString(parsed);
          this.refs.delete(key);
          records.push({ Untagged: key });
          repoRefs = this.refs.refsOf(id);
          if (parsed.digest === undefined) {
            // The last tag of a repository takes that repository's digest references along.
            const name = familiarName(parsed);
            if (!repoRefs.some((r) => !r.canonical && r.repo === name)) {
              for (const r of repoRefs.filter((x) => x.canonical && x.repo === name)) {
                this.refs.delete(r.ref);
                records.push({ Untagged: r.ref });
              }
              repoRefs = this.refs.refsOf(id);
            }
          }
          if (repoRefs.length > 0) return records;
          quiet = true;
        } else if (isSingleReference(repoRefs)) {
          const c = this.checkConflict(id, { running: true, refs: false, stopped: !force });
          if (c !== undefined) throw conflictError(id, c);
          for (const r of repoRefs) {
            this.refs.delete(r.ref);
            records.push({ Untagged: r.ref });
          }
        }
        const parent = this.images.get(id)?.parent;
        await this.deleteImageLocked(id, records, force, quiet);
        if (opts.noprune !== true && !this.images.has(id)) pruned.push(...(await this.pruneParentsLocked(parent, records)));
        return records;
      } finally {
        if (records.length > 0) await this.refs.save();
        for (const r of records) if ('Untagged' in r || r.Deleted === id) this.event('Untagged' in r ? 'untag' : 'delete', id, id);
        for (const p of pruned) this.event('delete', p, p);
      }
    });
  }

  /**
   * After an image is deleted, its parents go too while they are untagged and nothing
   * else (a child, a container) needs them: a build's intermediate images, as dockerd's
   * rmi prunes them (stopping quietly at the first one still needed). Returns their IDs.
   */
  private async pruneParentsLocked(first: Digest | undefined, records: ImageDeleteItem[]): Promise<Digest[]> {
    const gone: Digest[] = [];
    for (let parent = first; parent !== undefined && this.images.has(parent); ) {
      if (this.refs.refsOf(parent).length > 0) break;
      if (this.checkConflict(parent, { running: true, refs: true, stopped: true }) !== undefined) break;
      const next = this.images.get(parent)?.parent;
      await this.deleteImageLocked(parent, records, false, true);
      if (this.images.has(parent)) break;
      gone.push(parent);
      parent = next;
    }
    return gone;
  }

  private async deleteImageLocked(id: Digest, records: ImageDeleteItem[], force: boolean, quiet: boolean): Promise<void> {
    const c = this.checkConflict(id, { running: true, refs: !force, stopped: !force });
    if (c !== undefined) {
      const dangling = this.refs.refsOf(id).length === 0;
      if (quiet && (!dangling || c.used)) return;
      throw conflictError(id, c);
    }
    for (const r of this.refs.refsOf(id)) {
      this.refs.delete(r.ref);
      records.push({ Untagged: r.ref });
    }
    const img = this.images.get(id);
    if (img === undefined) return;
    if (this.users(id).length > 0) {
      // Forced away from a container that still needs its layers: keep them.
      await writeFileAtomic(this.contentPath(id, 'retained'), img.raw);
      this.retained.set(id, img.config);
    }
    await fs.rm(this.contentPath(id), { force: true });
    await fs.rm(this.metadataPath(id), { force: true });
    this.images.delete(id);
    records.push({ Deleted: id });
    const removed = new Set(await this.collectLayersLocked());
    const diffIds = img.config.rootfs.diff_ids;
    chainIds(diffIds).forEach((chain, i) => {
      const d = diffIds[i];
      if (d !== undefined && removed.has(d)) records.push({ Deleted: chain });
    });
  }

  /** Delete unreferenced layers; returns their diff-ids. Under the lock. */
  private async collectLayersLocked(): Promise<Digest[]> {
    const keep = new Set<Digest>();
    for (const img of this.images.values()) for (const d of img.config.rootfs.diff_ids) keep.add(d);
    for (const cfg of this.retained.values()) for (const d of cfg.rootfs.diff_ids) keep.add(d);
    const { removed, trash } = await this.layers.collectLocked(keep);
    for (const d of removed) this.layerSizes.delete(d);
    await this.layers.emptyTrash(trash);
    return removed;
  }

  /**
   * Drop retained images no container uses any more and every layer no image needs.
   * Call after removing containers. Idempotent. Returns the removed layers' diff-ids.
   */
  async gc(): Promise<Digest[]> {
    return this.lock.run(async () => {
      for (const id of [...this.retained.keys()]) {
        if (this.users(id).length > 0) continue;
        try {
          await fs.rm(this.contentPath(id, 'retained'));
        } catch (e: unknown) {
          if (errCode(e) !== 'ENOENT') throw e;
        }
        this.retained.delete(id);
      }
      return this.collectLayersLocked();
    });
  }
}
