/**
 * The bytes a folder's files hold, as dockerd's directory.Size counts them: the sizes of
 * everything but folders, each inode once (hard links), symbolic links not followed.
 * Entries that vanish during the walk are skipped; a missing folder is 0.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

export async function directorySize(dir: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(d, { withFileTypes: true });
    } catch {
      return; // gone, or not a folder
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        await walk(p);
        continue;
      }
      try {
        const st = await fs.lstat(p, { bigint: true });
        const key = `${st.dev}:${st.ino}`;
        if (st.size === 0n || seen.has(key)) continue;
        seen.add(key);
        total += Number(st.size);
      } catch {
        /* vanished meanwhile */
      }
    }
  };
  await walk(dir);
  return total;
}
