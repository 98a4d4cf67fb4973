/**
 * A COPY or ADD step's layer, staged in a folder laid out as the image's root: the
 * sources placed as Docker places them (a folder's content into the destination; a
 * file into it when the destination is a folder — ends with `/`, or is one in the image
 * — else as the destination), folders on the way that the image has keep its metadata,
 * new ones are 0755 and owned by the `--chown` user. ADD unpacks a local tar archive
 * (plain or compressed) into the destination.
 */
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { invalid } from '../../errors.js';
import { decompress, sniffCompression } from '../images/compression.js';
import { extractTar } from '../images/extract.js';
import { readTar } from '../images/tar.js';
import { copyEntry, type Owner } from './fs-copy.js';
import type { ImageTree } from './image-tree.js';
import type { IgnoreMatcher } from './ignore.js';
import type { Source } from './sources.js';

export interface StageRequest {
  /** The folder standing for the image's root. */
  staging: string;
  /** What to copy. */
  sources: readonly Source[];
  /** The destination as written (after expansion); relative ones start at `workdir`. */
  dest: string;
  /** The config's working folder. */
  workdir: string;
  /** --chown's owner; undefined keeps the sources' own. */
  owner: Owner;
  /** The image the step starts from. */
  image: ImageTree;
  /** .dockerignore, for sources from the context. */
  ignore: IgnoreMatcher | undefined;
  /** ADD: unpack local archives. */
  unpack: boolean;
  /** COPY or ADD, for messages. */
  verb: string;
}

/** The destination as an absolute image path, and whether it names a folder. */
function destination(req: StageRequest): { abs: string; dirSyntax: boolean } {
  const dirSyntax = req.dest.endsWith('/') || req.dest === '.' || req.dest.endsWith('/.');
  const abs = path.posix.resolve(req.workdir || '/', req.dest);
  return { abs, dirSyntax };
}

async function isTarArchive(file: string): Promise<boolean> {
  const fh = await fs.open(file, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await fh.read(head, 0, 512, 0);
    if (bytesRead === 0) return false;
    if (sniffCompression(head.subarray(0, bytesRead)) !== 'none') return true;
    return bytesRead >= 262 && head.subarray(257, 262).toString() === 'ustar';
  } finally {
    await fh.close();
  }
}

class Stager {
  /** Folders made on the way (image paths), to be given their metadata at the end. */
  private readonly made = new Set<string>();

  constructor(private readonly req: StageRequest) {}

  private host(abs: string): string {
    return path.join(this.req.staging, abs);
  }

  /** Make the folder `abs` and those above it, remembering the ones made. */
  private async ensureDir(abs: string): Promise<void> {
    const parts = abs.split('/').filter((p) => p !== '');
    for (let n = 1; n <= parts.length; n++) {
      const sub = `/${parts.slice(0, n).join('/')}`;
      if (this.made.has(sub)) continue;
      const st = await fs.lstat(this.host(sub)).catch(() => undefined);
      if (st?.isDirectory() === true) continue;
      await fs.mkdir(this.host(sub));
      this.made.add(sub);
    }
  }

  private async place(src: Source, target: string): Promise<void> {
    const st = await fs.lstat(src.host);
    const skip = this.req.ignore === undefined ? undefined : (rel: string): boolean => this.req.ignore!.excludes(rel);
    const opts = { owner: this.req.owner, ...(skip === undefined ? {} : { skip }) };
    if (st.isDirectory()) {
      await this.ensureDir(target);
      for (const name of (await fs.readdir(src.host)).sort()) {
        const rel = src.rel === '' ? name : `${src.rel}/${name}`;
        if (skip?.(rel) === true) continue;
        await copyEntry(path.join(src.host, name), this.host(path.posix.join(target, name)), { ...opts, rel });
      }
      return;
    }
    await this.ensureDir(path.posix.dirname(target));
    await copyEntry(src.host, this.host(target), { ...opts, rel: src.rel });
  }

  private async unpack(src: Source, dir: string): Promise<void> {
    await this.ensureDir(dir);
    await extractTar(readTar(decompress(createReadStream(src.host))), this.host(dir), { whiteouts: false });
  }

  async run(): Promise<void> {
    const dest = destination(this.req);
    const { dirSyntax } = dest;
    const abs = await this.req.image.resolve(dest.abs, dirSyntax);
    const { sources } = this.req;
    const inImage = await this.req.image.stat(abs.slice(1));
    const destIsDir = dirSyntax || inImage?.isDirectory() === true;
    if (sources.length > 1 && !dirSyntax) {
      throw invalid(`When using ${this.req.verb} with more than one source file, the destination must be a directory and end with a /`);
    }
    for (const src of sources) {
      const st = await fs.lstat(src.host);
      if (this.req.unpack && st.isFile() && (await isTarArchive(src.host))) {
        await this.unpack(src, abs);
        continue;
      }
      const target = st.isDirectory() ? abs : destIsDir ? path.posix.join(abs, path.posix.basename(src.rel)) : abs;
      await this.place(src, target === '' ? '/' : target);
    }
    await this.settleFolders();
  }

  /** Make the folder `abs` (and those above it) and settle their metadata. */
  async folder(abs: string): Promise<void> {
    await this.ensureDir(await this.req.image.resolve(abs, true));
    await this.settleFolders();
  }

  /** Folders made on the way: the image's metadata where it has them, else 0755 and the owner. */
  private async settleFolders(): Promise<void> {
    for (const abs of [...this.made].sort().reverse()) {
      const st = await this.req.image.stat(abs.slice(1));
      const h = this.host(abs);
      if (st?.isDirectory() === true) {
        await fs.chown(h, st.uid, st.gid);
        await fs.chmod(h, st.mode & 0o7777);
        await fs.utimes(h, st.atime, st.mtime);
      } else {
        await fs.chown(h, this.req.owner?.uid ?? 0, this.req.owner?.gid ?? 0);
        await fs.chmod(h, 0o755);
      }
    }
  }
}

/** Stage the step's files under req.staging. */
export async function stageCopy(req: StageRequest): Promise<void> {
  await new Stager(req).run();
}

/** Stage the folder `abs` alone (WORKDIR making its folder), folders above it as the image has them. */
export async function stageFolder(staging: string, abs: string, image: ImageTree): Promise<void> {
  const s = new Stager({ staging, sources: [], dest: abs, workdir: '/', owner: undefined, image, ignore: undefined, unpack: false, verb: 'WORKDIR' });
  await s.folder(abs);
}
