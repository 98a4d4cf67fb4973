/**
 * An image made without any engine, for pull benchmarks: `layers` layers, each one file of
 * random bytes (incompressible: gzip leaves them their size), as Docker's schema 2
 * manifest in skopeo's `dir:` layout (manifest.json, one file per blob named by its hex
 * digest, a version file), ready for `skopeo copy dir:… docker://…`.
 */
import { createHash, randomFillSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { must } from '../../test/lib/world.js';

export interface RandomImage {
  dir: string;
  /** Bytes of the compressed layer blobs, what a pull downloads. */
  blobBytes: number;
  /** Bytes of file data in the layers. */
  dataBytes: number;
  layers: number;
}

function sha256File(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Write the image into `dir` (made here); `work` holds the intermediate files, removed after. */
export async function writeRandomImage(dir: string, work: string, layers: number, bytesPerLayer: number): Promise<RandomImage> {
  fs.mkdirSync(dir, { recursive: true });
  const diffIds: string[] = [];
  const blobs: { digest: string; size: number }[] = [];
  const data = Buffer.alloc(bytesPerLayer);
  for (let i = 1; i <= layers; i++) {
    const root = path.join(work, `layer${i}`);
    fs.mkdirSync(path.join(root, 'data'), { recursive: true });
    fs.writeFileSync(path.join(root, 'data', `layer${i}.bin`), randomFillSync(data));
    const tar = path.join(work, `layer${i}.tar`);
    await must('tar', ['--numeric-owner', '--owner=0', '--group=0', '--mtime=@0', '-C', root, '-cf', tar, 'data']);
    diffIds.push(`sha256:${sha256File(tar)}`);
    await must('gzip', ['-1', '-n', tar]);
    const gz = `${tar}.gz`;
    const hex = sha256File(gz);
    blobs.push({ digest: `sha256:${hex}`, size: fs.statSync(gz).size });
    fs.renameSync(gz, path.join(dir, hex));
    fs.rmSync(root, { recursive: true, force: true });
  }
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created: '2026-01-01T00:00:00Z',
    config: { Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: diffIds.map((_, i) => ({ created: '2026-01-01T00:00:00Z', created_by: `random layer ${i + 1}` })),
  }));
  const configHex = createHash('sha256').update(config).digest('hex');
  fs.writeFileSync(path.join(dir, configHex), config);
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: `sha256:${configHex}` },
    layers: blobs.map((b) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: b.size, digest: b.digest })),
  };
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
  fs.writeFileSync(path.join(dir, 'version'), 'Directory Transport Version: 1.1\n');
  return { dir, blobBytes: blobs.reduce((n, b) => n + b.size, 0), dataBytes: layers * bytesPerLayer, layers };
}
