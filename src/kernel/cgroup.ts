/**
 * cgroupfs: clean-up (runc removes a container's cgroup, not the parent berth made for
 * it), the layout, and reading a group's files for stats.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = '/sys/fs/cgroup';

/** Remove `<controller>/<parent>` in every hierarchy where it exists and is empty. */
export function removeEmptyCgroupParent(parent: string): void {
  let controllers: string[] = [];
  try {
    controllers = fs.readdirSync(ROOT);
  } catch {
    return;
  }
  for (const ctrl of controllers) {
    try {
      fs.rmdirSync(path.join(ROOT, ctrl, parent));
    } catch {
      // missing, still in use by another container, or not a hierarchy: nothing to do
    }
  }
}

/** 2 when /sys/fs/cgroup is the unified hierarchy; 1 for a hierarchy per controller (the hybrid layout too). */
export function cgroupVersion(): 1 | 2 {
  return fs.existsSync(path.join(ROOT, 'cgroup.controllers')) ? 2 : 1;
}

/**
 * The texts of a cgroup's files: `group` is the cgroup's path in its hierarchy
 * ("/berth/<id>"); on v1 each name is "<controller>/<file>", on v2 a file of the group.
 * A file that cannot be read (its controller is not mounted, the group is gone) is left out.
 */
export async function readCgroupFiles(version: 1 | 2, group: string, names: readonly string[]): Promise<Map<string, string>> {
  const at = (name: string): string => {
    if (version === 2) return path.join(ROOT, group, name);
    const slash = name.indexOf('/');
    return path.join(ROOT, name.slice(0, slash), group, name.slice(slash + 1));
  };
  const texts = await Promise.all(names.map(async (n) => fs.promises.readFile(at(n), 'utf8').catch(() => undefined)));
  const out = new Map<string, string>();
  names.forEach((n, i) => {
    const t = texts[i];
    if (t !== undefined) out.set(n, t);
  });
  return out;
}

/** What the host's cgroups can limit (dockerd's sysinfo): a setting outside them is discarded with a warning. */
export interface CgroupFeatures {
  memory: boolean;
  /** Memory plus swap (v1 memory.memsw.*, v2 memory.swap.max). */
  swap: boolean;
  cpuShares: boolean;
  /** CFS quota and period. */
  cpuCfs: boolean;
  cpuset: boolean;
  /** blkio.weight (or BFQ's) on v1, the io controller on v2. */
  blkioWeight: boolean;
  pids: boolean;
}

/** Probed as dockerd's sysinfo does: v1 by each controller's files, v2 by the root's controllers. */
export function probeCgroupFeatures(version: 1 | 2): CgroupFeatures {
  if (version === 1) {
    const has = (f: string): boolean => fs.existsSync(path.join(ROOT, f));
    return {
      memory: has('memory/memory.limit_in_bytes'),
      swap: has('memory/memory.memsw.limit_in_bytes'),
      cpuShares: has('cpu/cpu.shares'),
      cpuCfs: has('cpu/cpu.cfs_quota_us'),
      cpuset: has('cpuset/cpuset.cpus'),
      blkioWeight: has('blkio/blkio.weight') || has('blkio/blkio.bfq.weight'),
      pids: has('pids/cgroup.procs'),
    };
  }
  let controllers: string[] = [];
  try {
    controllers = fs.readFileSync(path.join(ROOT, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
  } catch {
    // no controllers: nothing can be limited
  }
  const on = (c: string): boolean => controllers.includes(c);
  return { memory: on('memory'), swap: on('memory') && ownGroupHas('memory.swap.max'), cpuShares: on('cpu'), cpuCfs: on('cpu'), cpuset: on('cpuset'), blkioWeight: on('io'), pids: on('pids') };
}

/** Whether the daemon's own v2 group has the file (the root group has no memory.swap.max). */
function ownGroupHas(file: string): boolean {
  try {
    const line = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
    return line !== undefined && fs.existsSync(path.join(ROOT, line.slice(3), file));
  } catch {
    return false;
  }
}
