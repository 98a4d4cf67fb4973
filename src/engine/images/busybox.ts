/**
 * The `busybox` image, synthesised from the host's static busybox (Debian package
 * busybox-static), so containers run with no registry. The layer tar is built
 * deterministically (sorted entries, uid/gid 0, every mtime = the binary's mtime), so
 * the same binary always gives the same diff-id and image ID, whatever the tag.
 */
import * as fs from 'node:fs/promises';
import { BerthError } from '../../errors.js';
import { run } from '../../kernel/exec.js';
import type { Digest, ImageConfigFile } from './config.js';
import { goArch } from './config.js';
import { safeRelative } from './extract.js';
import type { TarWriteEntry } from './tar-write.js';

export const BUSYBOX_PATH = '/bin/busybox';

/** Whether `ref` names the busybox made here from the host's binary: Docker Hub's busybox by tag (a digest names a registry's image). */
export function isHostBusybox(ref: { domain: string; path: string; digest?: string }): boolean {
  return ref.domain === 'docker.io' && ref.path === 'library/busybox' && ref.digest === undefined;
}
const PACKAGE = 'busybox-static';
const PT_INTERP = 3;

function unavailable(msg: string): BerthError {
  return new BerthError('Unavailable', msg, `install the Debian package ${PACKAGE}`);
}

/**
 * True when `elf` is an ELF executable without a PT_INTERP program header, i.e. it
 * needs no dynamic loader and runs in an empty rootfs.
 */
export function isStaticElf(elf: Buffer): boolean {
  if (elf.length < 52 || elf.readUInt32BE(0) !== 0x7f454c46) return false;
  const is64 = elf[4] === 2;
  const le = elf[5] === 1;
  const u16 = (o: number): number => (le ? elf.readUInt16LE(o) : elf.readUInt16BE(o));
  const u32 = (o: number): number => (le ? elf.readUInt32LE(o) : elf.readUInt32BE(o));
  const u64 = (o: number): number => Number(le ? elf.readBigUInt64LE(o) : elf.readBigUInt64BE(o));
  const phoff = is64 ? u64(0x20) : u32(0x1c);
  const phentsize = is64 ? u16(0x36) : u16(0x2a);
  const phnum = is64 ? u16(0x38) : u16(0x2c);
  if (phnum === 0 || phentsize < 4) return false;
  for (let i = 0; i < phnum; i++) {
    const off = phoff + i * phentsize;
    if (off + 4 > elf.length) return false;
    if (u32(off) === PT_INTERP) return false;
  }
  return true;
}

/** The binary and its mtime, checked: present, ELF, static. */
export async function readStaticBusybox(binPath: string = BUSYBOX_PATH): Promise<{ binary: Buffer; mtime: number }> {
  let binary: Buffer;
  let mtime: number;
  try {
    binary = await fs.readFile(binPath);
    mtime = Math.floor((await fs.stat(binPath)).mtimeMs / 1000);
  } catch {
    throw unavailable(`cannot build the busybox image: ${binPath} not found (install the Debian package ${PACKAGE})`);
  }
  if (!isStaticElf(binary)) {
    throw unavailable(`cannot build the busybox image: ${binPath} is not a statically linked executable (install the Debian package ${PACKAGE})`);
  }
  return { binary, mtime };
}

/** Applet paths (`bin/sh`, `usr/bin/wget` …) from `busybox --list-full`. */
export async function busyboxApplets(binPath: string = BUSYBOX_PATH): Promise<string[]> {
  const stdout = await run(binPath, ['--list-full']);
  const out = new Set<string>();
  for (const line of stdout.split('\n')) {
    const p = line.trim();
    if (p === '') continue;
    out.add(safeRelative(p));
  }
  out.delete('bin/busybox');
  return [...out].sort();
}

const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
`;

const GROUP = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
wheel:x:10:root
mail:x:12:
www-data:x:33:
operator:x:37:
staff:x:50:
users:x:100:
nogroup:x:65534:
`;

const INDEX_HTML = `<!DOCTYPE html>
<html>
<head><title>Welcome to berth</title></head>
<body>
<h1>It works!</h1>
<p>Served by busybox httpd inside a berth container.</p>
</body>
</html>
`;

const HOSTS = `127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
`;

const DIRS: Record<string, number> = {
  bin: 0o755,
  dev: 0o755,
  etc: 0o755,
  home: 0o755,
  proc: 0o555,
  root: 0o700,
  sbin: 0o755,
  sys: 0o555,
  tmp: 0o1777,
  usr: 0o755,
  'usr/bin': 0o755,
  'usr/sbin': 0o755,
  var: 0o755,
  'var/spool': 0o755,
  'var/spool/mail': 0o755,
  'var/www': 0o755,
  www: 0o755,
};

/** The layer's entries, sorted by path, all owned by root, all with the same mtime. */
export function busyboxLayerEntries(binary: Buffer, applets: readonly string[], mtime: number): TarWriteEntry[] {
  const entries = new Map<string, TarWriteEntry>();
  const dir = (p: string, mode = 0o755): void => {
    if (!entries.has(p)) entries.set(p, { path: p, type: 'directory', mode: DIRS[p] ?? mode, mtime });
  };
  const parents = (p: string): void => {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) dir(parts.slice(0, i).join('/'));
  };
  for (const d of Object.keys(DIRS)) {
    parents(d);
    dir(d);
  }
  const file = (p: string, data: string | Buffer, mode = 0o644): void => {
    parents(p);
    entries.set(p, { path: p, type: 'file', mode, mtime, data: typeof data === 'string' ? Buffer.from(data) : data });
  };
  file('bin/busybox', binary, 0o755);
  file('etc/passwd', PASSWD);
  file('etc/group', GROUP);
  file('etc/hosts', HOSTS);
  file('etc/hostname', '');
  file('etc/resolv.conf', '');
  file('www/index.html', INDEX_HTML);
  file('var/www/index.html', INDEX_HTML);
  for (const a of applets) {
    if (entries.has(a)) continue;
    parents(a);
    entries.set(a, { path: a, type: 'symlink', linkpath: '/bin/busybox', mode: 0o777, mtime });
  }
  if (!entries.has('bin/sh')) entries.set('bin/sh', { path: 'bin/sh', type: 'symlink', linkpath: '/bin/busybox', mode: 0o777, mtime });
  return [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The image config for the busybox layer (deterministic for a given layer and time). */
export function busyboxConfig(diffId: Digest, mtime: number): ImageConfigFile {
  const created = new Date(mtime * 1000).toISOString().replace('.000Z', 'Z');
  return {
    architecture: goArch(),
    os: 'linux',
    created,
    config: {
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Cmd: ['sh'],
    },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created, created_by: `berth: synthesized from the host's ${BUSYBOX_PATH} (${PACKAGE})` }],
  };
}
