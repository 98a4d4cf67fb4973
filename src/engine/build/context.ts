/**
 * A build's workspace under <dataRoot>/build/<id>/: the context the client sent (a tar,
 * plain or compressed, extracted into context/; a body that is no archive is the
 * Dockerfile itself, as dockerd takes it), the Dockerfile read from it, .dockerignore,
 * and scratch/ for staging. Removed when the build ends; sweep() removes what a crash
 * left.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { invalid, notFound } from '../../errors.js';
import { decompress, sniffCompression } from '../images/compression.js';
import { extractTar } from '../images/extract.js';
import { readTar } from '../images/tar.js';
import { END_OF_ARCHIVE } from '../images/tar-write.js';
import { parseDockerfile, type Dockerfile } from './dockerfile.js';
import { IgnoreMatcher } from './ignore.js';
import { scopedPath } from './scoped.js';
import { cleanSource } from './sources.js';

export interface BuildContext {
  /** The extracted context. */
  dir: string;
  /** Staging space for the build's steps. */
  scratch: string;
  /** The parsed Dockerfile. */
  dockerfile: Dockerfile;
  /** The context's .dockerignore. */
  ignore: IgnoreMatcher;
  /** Remove the workspace. Idempotent. */
  dispose(): Promise<void>;
}

/**
 * The archive with end-of-archive blocks after it: the CLI's context with a Dockerfile
 * from outside it ends without them, and dockerd's reader takes an end at a header
 * boundary as the end (blocks after a real end are read and ignored).
 */
async function* endedArchive(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield* source;
  yield END_OF_ARCHIVE;
}

async function isArchive(file: string): Promise<boolean> {
  const fh = await fs.open(file, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await fh.read(head, 0, 512, 0);
    if (bytesRead === 0) return true; // an empty context
    if (sniffCompression(head.subarray(0, bytesRead)) !== 'none') return true;
    return bytesRead >= 262 && head.subarray(257, 262).toString() === 'ustar';
  } finally {
    await fh.close();
  }
}

/** A file of the context (links followed inside it only), or undefined. */
async function readIfFile(dir: string, rel: string): Promise<string | undefined> {
  const p = await scopedPath(dir, rel);
  const st = await fs.lstat(p).catch(() => undefined);
  return st?.isFile() === true ? fs.readFile(p, 'utf8') : undefined;
}

async function readDockerfile(dir: string, name: string): Promise<string> {
  const rel = cleanSource(name);
  const text = await readIfFile(dir, rel);
  if (text !== undefined) return text;
  // dockerd falls back to the lower-case name when the default one is missing.
  if (name === 'Dockerfile') {
    const lower = await readIfFile(dir, 'dockerfile');
    if (lower !== undefined) return lower;
  }
  throw notFound(`Cannot locate specified Dockerfile: ${name}`);
}

export class BuildWorkspaces {
  private readonly root: string;

  constructor(dataRoot: string) {
    this.root = path.join(dataRoot, 'build');
  }

  /** Remove workspaces a crash left. */
  async sweep(): Promise<void> {
    await fs.rm(this.root, { recursive: true, force: true });
  }

  /** Receive a build context and read its Dockerfile (`dockerfile`: its path in the context). */
  async receive(body: AsyncIterable<Buffer>, dockerfile: string): Promise<BuildContext> {
    const ws = path.join(this.root, randomBytes(8).toString('hex'));
    const dir = path.join(ws, 'context');
    const scratch = path.join(ws, 'scratch');
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    await fs.mkdir(scratch);
    const dispose = async (): Promise<void> => fs.rm(ws, { recursive: true, force: true });
    try {
      const tarFile = path.join(ws, 'context.tar');
      await pipeline(body, createWriteStream(tarFile));
      if (await isArchive(tarFile)) {
        await extractTar(readTar(endedArchive(decompress(createReadStream(tarFile)))), dir, { whiteouts: false });
      } else {
        await fs.rename(tarFile, path.join(dir, 'Dockerfile'));
        if (dockerfile !== 'Dockerfile') throw invalid('the body is a Dockerfile, not a context archive: leave out the dockerfile parameter');
      }
      await fs.rm(tarFile, { force: true });
      const text = await readDockerfile(dir, dockerfile);
      const ignore = new IgnoreMatcher(await readIfFile(dir, '.dockerignore'));
      return { dir, scratch, dockerfile: parseDockerfile(text), ignore, dispose };
    } catch (e: unknown) {
      await dispose();
      throw e;
    }
  }
}
