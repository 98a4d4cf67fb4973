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
