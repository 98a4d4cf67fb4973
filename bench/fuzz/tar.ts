/**
 * Hostile tar archives for `docker load` and `docker import`: entries that climb out
 * with `..`, absolute paths, symlinks and hard links pointing outside, and manifests
 * naming files outside the archive. Every escape names the canary, so a successful
 * escape leaves a file the runner finds afterwards.
 */
import { createHash } from 'node:crypto';
import type { Rng } from '../../test/lib/prng.js';

export interface TarEntry {
  name: string;
  data?: Buffer;
  /** '0' file (default), '1' hard link, '2' symlink, '5' directory. */
  type?: '0' | '1' | '2' | '5';
  linkname?: string;
}

function header(e: TarEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  const put = (off: number, len: number, s: string): void => void h.write(s.slice(0, len), off, len, 'utf8');
  const octal = (off: number, len: number, n: number): void => put(off, len, n.toString(8).padStart(len - 1, '0') + '\0');
  put(0, 100, e.name);
  octal(100, 8, e.type === '5' ? 0o755 : 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, 0);
  h.fill(0x20, 148, 156);
  put(156, 1, e.type ?? '0');
  put(157, 100, e.linkname ?? '');
  put(257, 6, 'ustar\0');
  put(263, 2, '00');
  let sum = 0;
  for (const b of h) sum += b;
  put(148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

export function buildTar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.type === '0' || e.type === undefined ? (e.data ?? Buffer.alloc(0)) : Buffer.alloc(0);
    parts.push(header(e, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** A layer whose entries try to land outside the extraction directory. */
function hostileLayer(rng: Rng, canary: string, dir: string): Buffer {
  const mark = Buffer.from('fz\n');
  return buildTar(rng.pick<TarEntry[]>([
    [{ name: `../../../../${canary}-dotdot`, data: mark }],
    [{ name: `/${dir.replace(/^\//, '')}/${canary}-abs`, data: mark }],
    [{ name: 'evil', type: '2', linkname: dir }, { name: `evil/${canary}-symlink`, data: mark }],
    [{ name: 'evil', type: '2', linkname: '../../../../../../..' }, { name: `evil/${dir.replace(/^\//, '')}/${canary}-symrel`, data: mark }],
    [{ name: 'hl', type: '1', linkname: '/etc/passwd' }],
    [{ name: 'hl', type: '1', linkname: '../../../../../../etc/passwd' }],
    [{ name: 'd', type: '5' }, { name: 'd/../../x', data: mark }],
    [{ name: 'ok', data: mark }, { name: 'ok', type: '2', linkname: '/etc/shadow' }],
    [{ name: '.wh...', data: mark }, { name: '.wh..wh..opq', data: mark }, { name: 'a/.wh.', data: mark }],
    [{ name: `x\u0000y`, data: mark }],
  ]));
}

/** A docker-save archive (or a bare layer, for import) with one hostile part. */
export function hostileArchive(rng: Rng, canary: string, dir: string): Buffer {
  const layer = hostileLayer(rng, canary, dir);
  if (rng.chance(0.3)) return layer;
  const diff = `sha256:${createHash('sha256').update(layer).digest('hex')}`;
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diff] }, config: { Cmd: ['true'] } }));
  const manifest = rng.pick([
    [{ Config: 'config.json', RepoTags: [`fz-load:${rng.hex(4)}`], Layers: ['layer.tar'] }],
    [{ Config: '../../../../etc/passwd', RepoTags: ['fz-load:cfg'], Layers: ['layer.tar'] }],
    [{ Config: 'config.json', RepoTags: ['fz-load:abs'], Layers: ['/etc/shadow'] }],
    [{ Config: 'config.json', RepoTags: ['../../x:y', 'UPPER:x', 'x'.repeat(300)], Layers: ['layer.tar'] }],
    [{ Config: 'config.json', RepoTags: ['fz-load:link'], Layers: ['link.tar'] }],
    [{ Config: 'config.json', RepoTags: ['fz-load:many'], Layers: Array.from({ length: 200 }, () => 'layer.tar') }],
  ]);
  return buildTar([
    { name: 'manifest.json', data: Buffer.from(JSON.stringify(manifest)) },
    { name: 'config.json', data: config },
    { name: 'layer.tar', data: layer },
    { name: 'link.tar', type: '2', linkname: '/etc/passwd' },
  ]);
}
