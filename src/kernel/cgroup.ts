/** cgroupfs clean-up: runc removes a container's cgroup, not the parent berth made for it. */
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
