/**
 * --tmpfs mounts (HostConfig.Tmpfs: path -> "rw,size=64m"): Docker's defaults and its
 * option merging (moby pkg/mount MergeTmpfsOptions), decided at create. Pure.
 */
import { posix } from 'node:path';
import { invalid } from '../../errors.js';

export interface TmpfsConfig {
  destination: string;
  /** mount(8) options, merged: one of each flag pair, one of each key=value. */
  options: string[];
}

/** Docker's: what the user's options then override. */
const DEFAULTS = ['noexec', 'nosuid', 'nodev', 'rprivate'];

/** Options that are mount flags; the pairs share a key so the later one wins. */
const FLAG_KEYS: Record<string, string> = {
  ro: 'rdonly', rw: 'rdonly', suid: 'nosuid', nosuid: 'nosuid', dev: 'nodev', nodev: 'nodev',
  exec: 'noexec', noexec: 'noexec', sync: 'sync', async: 'sync', dirsync: 'dirsync', remount: 'remount',
  mand: 'mand', nomand: 'mand', atime: 'noatime', noatime: 'noatime', diratime: 'nodiratime', nodiratime: 'nodiratime',
  relatime: 'relatime', norelatime: 'relatime', strictatime: 'strictatime', nostrictatime: 'strictatime',
  // Only one propagation mode.
  bind: 'propagation', rbind: 'propagation', unbindable: 'propagation', runbindable: 'propagation',
  private: 'propagation', rprivate: 'propagation', shared: 'propagation', rshared: 'propagation',
  slave: 'propagation', rslave: 'propagation',
};

const DATA_KEYS = new Set(['size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'mpol']);

/** Docker's defaults with `data` ("rw,size=64m") over them; InvalidParameter on an unknown option. */
export function tmpfsOptions(data: string): string[] {
  const options = [...DEFAULTS, ...(data === '' ? [] : data.split(','))];
  const seen = new Set<string>();
  const merged: string[] = [];
  // From the end: the last of a kind wins, and the order is otherwise kept.
  for (const option of options.reverse()) {
    if (option === 'defaults') continue;
    let key = FLAG_KEYS[option];
    if (key === undefined) {
      const eq = option.indexOf('=');
      if (eq < 0 || !DATA_KEYS.has(option.slice(0, eq))) throw invalid(`Invalid tmpfs option ${goQuoted(option)}`);
      key = `data:${option.slice(0, eq)}`;
    }
    if (seen.has(key)) continue;
    seen.add(key);
    merged.unshift(option);
  }
  return merged;
}

/** HostConfig.Tmpfs into mounts, destinations checked and cleaned as Docker does. */
export function parseTmpfs(spec: Record<string, string>): TmpfsConfig[] {
  return Object.entries(spec).map(([dest, data]) => {
    if (!dest.startsWith('/')) throw invalid(`invalid mount path: '${dest}' mount path must be absolute`);
    const destination = posix.normalize(dest).replace(/(.)\/$/, '$1');
    if (destination === '/') throw invalid("invalid specification: destination can't be '/'");
    return { destination, options: tmpfsOptions(data) };
  });
}

/** Go's %q of the option split at its first '=' (Docker prints the pieces). */
function goQuoted(option: string): string {
  const eq = option.indexOf('=');
  const parts = eq < 0 ? [option] : [option.slice(0, eq), option.slice(eq + 1)];
  return `[${parts.map((p) => JSON.stringify(p)).join(' ')}]`;
}
