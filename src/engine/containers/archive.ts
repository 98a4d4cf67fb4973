/**
 * `docker cp` and `docker export`: a container's files read and written through its
 * view (container-fs.ts), running or not, as dockerd's archive calls do (moby's
 * daemon/archive_linux.go, export.go): stat a path (HEAD), a tar of a path (GET), a tar
 * extracted into a folder (PUT), the whole root folder as a tar (export). A stopped
 * container's root is mounted for the call under its lock (rootfs-view.ts); volume
 * mount/unmount events go out around each call, as dockerd's setupMounts logs them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { conflict, invalid, notFound, systemError } from '../../errors.js';
import type { EventSink } from '../../events/types.js';
import { decompress } from '../images/compression.js';
import { extractTar } from '../images/extract.js';
import { readTar } from '../images/tar.js';
import { folderSource, packTree } from '../images/tar-tree.js';
import { errCode } from '../images/fsutil.js';
import { ContainerFs, containerPath, splitPath, type ViewMount } from './container-fs.js';
import { containerEvent, volumesMounted, volumesUnmounted } from './events.js';
import type { ContainerRecord } from './model.js';
import { archivePath, assertsDirectory, goBase, goFileMode, isGoDir, resolveUser, rfc3339Nano, type PathStat } from './path-stat.js';
import { RootfsViews } from './rootfs-view.js';
import { ImageViews } from '../volumes/image-view.js';
import type { VolumeStore } from '../volumes/store.js';
import type { ImageStore } from '../images/store.js';
import type { ContainerEngine } from './engine.js';
import type { Change } from './changes.js';
import { containerChanges } from './container-diff.js';

/** The container engine's part the archive calls use. */
export type ArchiveEngine = Pick<ContainerEngine, 'find' | 'exclusive' | 'facts'>;

export interface ArchiveDeps {
  engine: ArchiveEngine;
  images: Pick<ImageStore, 'layerDirs'>;
  volumes: Pick<VolumeStore, 'get'>;
  events: EventSink;
  /** The daemon's data root: stopped containers' roots and images' files are mounted below it for a call. */
  dataRoot: string;
}

export interface PutOptions {
  /** Refuse to replace a folder by a non-folder and the reverse (the docker CLI always asks). */
  noOverwriteDirNonDir: boolean;
  /** Files owned by the container's user (docker cp -a). */
  copyUIDGID: boolean;
}

const ETC_FILES = ['hostname', 'hosts', 'resolv.conf'];

export interface ViewMountSources {
  find(idOrName: string): ContainerRecord;
  /** The folder of the /etc files it mounts (its namespace owner's). */
  etcDir(c: ContainerRecord): string;
  /** A volume's folder, if the volume exists. */
  volumePath(name: string): string | undefined;
}

/** The mounts a container's archive view lays over its root: its volumes and binds, then its /etc files. */
export function viewMounts(c: ContainerRecord, deps: ViewMountSources): ViewMount[] {
  const out: ViewMount[] = [];
  const add = (type: 'bind' | 'volume', source: string, destination: string, readonly: boolean): void => {
    const host = type === 'volume' ? deps.volumePath(source) : source;
    if (host !== undefined && fs.existsSync(host)) out.push({ destination: path.posix.resolve('/', destination), source: host, readonly, userMount: true });
  };
  // Records written before mounts were decided at create take --volumes-from now (as runMounts).
  const legacyFrom = c.spec.volumes === undefined ? c.spec.volumesFrom : [];
  for (const from of legacyFrom) {
    const [ref, mode] = from.split(':');
    for (const m of deps.find(ref ?? '').spec.mounts) add(m.type, m.source, m.destination, mode === 'ro' || m.readonly);
  }
  for (const m of c.spec.mounts) add(m.type, m.source, m.destination, m.readonly);
  const etc = deps.etcDir(c);
  for (const f of ETC_FILES) {
    const source = path.join(etc, f);
    if (fs.existsSync(source)) out.push({ destination: `/etc/${f}`, source, readonly: false, userMount: false });
  }
  return out;
}

function lstatBig(p: string): fs.BigIntStats {
  return fs.lstatSync(p, { bigint: true });
}

export class ContainerArchives {
  private readonly views: RootfsViews;
  private readonly images: ImageViews;
  private readonly sources: ViewMountSources;

  constructor(private readonly deps: ArchiveDeps) {
    this.views = new RootfsViews(path.join(deps.dataRoot, 'container-views'));
    this.images = new ImageViews(path.join(deps.dataRoot, 'image-views'));
    this.sources = {
      find: (x) => deps.engine.find(x),
      etcDir: (c) => deps.engine.facts.etcDir(c),
      volumePath: (name) => {
        try {
          return deps.volumes.get(name).mountpoint;
        } catch {
          return undefined; // removed meanwhile: nothing is mounted there
        }
      },
    };
  }

  /** Unmounts the views a crash left (call once at start). */
  async sweep(): Promise<void> {
    await this.views.sweep();
  }

  /**
   * fn with the container's files: a running container's own root, or a view mounted
   * for the call under the container's lock.
   */
  private async open<T>(name: string, fn: (cfs: ContainerFs, c: ContainerRecord) => Promise<T>): Promise<T> {
    const c0 = this.deps.engine.find(name);
    const run = async (c: ContainerRecord): Promise<T> => {
      const layers = { id: c.id, layers: this.deps.images.layerDirs(c.spec.image.id), dir: this.deps.engine.facts.dir(c.id) };
      return this.views.with(layers, async (root) => {
        volumesMounted(this.deps.events, c);
        try {
          return await fn(new ContainerFs(root, viewMounts(c, this.sources)), c);
        } finally {
          volumesUnmounted(this.deps.events, c);
        }
      });
    };
    // A running container's root stays mounted by the runtime: no lock, so a long copy
    // never holds up its stop or its exit.
    if (c0.state.status === 'running') return run(c0);
    return this.deps.engine.exclusive(c0.id, run);
  }

  private statIn(cfs: ContainerFs, requested: string, name: string): { stat: PathStat; parts: string[]; dir: boolean } {
    const abs = archivePath(requested);
    const resolved = cfs.resolve(abs, assertsDirectory(abs));
    let st: fs.BigIntStats;
    try {
      st = lstatBig(resolved.host);
    } catch (e: unknown) {
      if (errCode(e) === 'ENOENT') throw notFound(`Could not find the file ${requested} in container ${name}`);
      throw systemError(`lstat ${abs}: ${errCode(e) === 'ENOTDIR' ? 'not a directory' : String(e)}`);
    }
    if (assertsDirectory(abs) && !st.isDirectory()) throw systemError(`lstat ${abs}: not a directory`);
    const linkTarget = st.isSymbolicLink() ? containerPath(cfs.resolve(abs, true).parts) : '';
    const stat: PathStat = {
      name: goBase(abs),
      size: Number(st.size),
      mode: goFileMode(Number(st.mode)),
      mtime: rfc3339Nano(st.mtimeNs),
      linkTarget,
    };
    return { stat, parts: resolved.parts, dir: isGoDir(stat.mode) };
  }

  /** HEAD /containers/{id}/archive: the stat of a path. */
  async stat(name: string, requested: string): Promise<PathStat> {
    return this.open(name, async (cfs) => this.statIn(cfs, requested, name).stat);
  }

  /**
   * GET /containers/{id}/archive: `send` gets the stat (for the header) and the tar of
   * the path, named as Docker names it (a folder's entries under its base name), and
   * streams it while the container's files are open.
   */
  async get(name: string, requested: string, send: (stat: PathStat, tar: AsyncIterable<Buffer>) => Promise<void>): Promise<void> {
    await this.open(name, async (cfs, c) => {
      const { stat, parts } = this.statIn(cfs, requested, name);
      containerEvent(this.deps.events, c, 'archive-path');
      await send(stat, packTree(cfs.source(parts), { rootName: goBase(archivePath(requested)), includeRoot: true }));
    });
  }

  /** PUT /containers/{id}/archive: extract a tar (plain or gzip) into the folder at the path. */
  async put(name: string, requested: string, body: AsyncIterable<Buffer | Uint8Array | string>, opts: PutOptions): Promise<void> {
    await this.open(name, async (cfs, c) => {
      const resolved = cfs.resolve(path.posix.join('/', requested), true);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(resolved.host);
      } catch (e: unknown) {
        if (errCode(e) === 'ENOENT' || errCode(e) === 'ENOTDIR') throw notFound(`Could not find the file ${requested} in container ${name}`);
        throw e;
      }
      if (!st.isDirectory()) throw invalid('extraction point is not a directory');
      const mount = cfs.mountOf(resolved.parts);
      if (mount?.userMount === true) {
        if (mount.readonly) throw invalid('mounted volume is marked read-only');
      } else if (c.spec.readonlyRootfs === true) {
        throw invalid('container rootfs is marked read-only');
      }
      const owner = opts.copyUIDGID ? this.owner(cfs, c) : undefined;
      const dest = containerPath(resolved.parts);
      const inDest = (rel: string): string[] => [...resolved.parts, ...splitPath(rel)];
      await extractTar(readTar(decompress(body)), resolved.host, {
        whiteouts: false,
        place: (rel) => cfs.hostOf(inDest(rel)),
        busy: (rel) => cfs.mountAt(inDest(rel)) !== undefined,
        ...(owner === undefined ? {} : { owner }),
        ...(opts.noOverwriteDirNonDir ? { noOverwriteDirNonDir: { dest } } : {}),
        keepRootMetadata: true,
      });
      containerEvent(this.deps.events, c, 'extract-to-dir');
    });
  }

  /** The uid and gid of the container's Config.User, from its own passwd and group files. */
  private owner(cfs: ContainerFs, c: ContainerRecord): { uid: number; gid: number } | undefined {
    const config = c.docker.config;
    const user = config !== null && typeof config === 'object' && !Array.isArray(config) && typeof config.User === 'string' ? config.User : c.spec.process.user;
    if (user === '') return undefined;
    const read = (p: string): string => {
      try {
        return fs.readFileSync(cfs.resolve(p, true).host, 'utf8');
      } catch {
        return '';
      }
    };
    return resolveUser(user, read('/etc/passwd'), read('/etc/group'));
  }

  /** GET /containers/{id}/changes: what the container changed in its image's files (null: nothing). */
  async changes(name: string): Promise<Change[] | null> {
    const c0 = this.deps.engine.find(name);
    const diff = async (c: ContainerRecord): Promise<Change[] | null> => containerChanges({ dir: (id) => this.deps.engine.facts.dir(id), layerDirs: (id) => this.deps.images.layerDirs(id), views: this.images }, c);
    return c0.state.status === 'running' ? diff(c0) : this.deps.engine.exclusive(c0.id, diff);
  }

  /** GET /containers/{id}/export: the container's root folder (no volumes) as a tar. */
  async export(name: string, send: (tar: AsyncIterable<Buffer>) => Promise<void>): Promise<void> {
    const c0 = this.deps.engine.find(name);
    if (c0.state.status === 'removing') throw conflict(`You cannot export container ${c0.id} which is being removed`);
    if (c0.state.status === 'dead') throw conflict(`You cannot export container ${c0.id} which is Dead`);
    await this.open(name, async (cfs, c) => {
      await send(packTree(folderSource(cfs.root), { rootName: '', includeRoot: false }));
      containerEvent(this.deps.events, c, 'export');
    });
  }
}
