/**
 * The filesystems of volumes created with type/device/o, mounted on their _data while
 * containers use them: the first user's start mounts, the last user's exit unmounts, as
 * moby's local driver counts its active mounts. The count is the set of container IDs
 * per volume (kept in memory: a restarted daemon rebuilds it from the running
 * containers, then unmounts the volumes none of them uses).
 */
import { messageOf, joinProblems, systemError, wrapError } from '../../errors.js';
import { mountFilesystem, mountPointsUnder, unmount } from '../../kernel/mount.js';
import { resolve } from 'node:path';
import { KeyedSerial } from '../../util/serial.js';
import { volumeFilesystem } from './options.js';

/** What the count needs to know of a volume. */
export interface MountableVolume {
  name: string;
  /** Its _data folder, where the filesystem is mounted. */
  mountpoint: string;
  options: Record<string, string>;
}

export class VolumeMounts {
  /** Volume name -> the containers using its mounted filesystem. */
  private readonly users = new Map<string, Set<string>>();
  /** One change per volume at a time: two first users must not both mount. */
  private readonly serial = new KeyedSerial();

  constructor(private readonly lookup: (name: string) => MountableVolume | undefined) {}

  /**
   * Before container `id` starts: mount each of its volumes that has a filesystem and no
   * user yet, and count it as a user. On failure the volumes counted here are released
   * and the error is Docker's ("error while mounting volume '<_data>': failed to mount
   * local volume: mount ..."). Idempotent for a container already counted.
   */
  async acquire(id: string, names: readonly string[]): Promise<void> {
    try {
      for (const name of new Set(names)) {
        const v = this.lookup(name);
        const fsys = v && volumeFilesystem(v.options);
        if (!v || !fsys) continue;
        await this.serial.run([name], async () => {
          const users = this.users.get(name) ?? new Set<string>();
          if (users.size === 0 && !isMountPoint(v.mountpoint)) {
            await mountFilesystem({ ...fsys, target: v.mountpoint }).catch((e: unknown) => {
              throw wrapError(systemError(`failed to mount local volume: ${withoutPassword(messageOf(e))}`), `error while mounting volume '${v.mountpoint}'`);
            });
          }
          users.add(id);
          this.users.set(name, users);
        });
      }
    } catch (e: unknown) {
      await this.release(id).catch(() => undefined);
      throw e;
    }
  }

  /**
   * Container `id` stopped (or its start failed): it no longer counts; volumes left
   * without users are unmounted (detached, so a busy one goes too, as moby's Unmount
   * does). Idempotent. Keeps going past a failure and throws them all at the end.
   */
  async release(id: string): Promise<void> {
    const problems: string[] = [];
    for (const [name, users] of this.users) {
      if (!users.has(id)) continue;
      await this.serial.run([name], async () => {
        // A release of the same container queued before this one may have done it already.
        if (!users.delete(id) || users.size > 0) return;
        this.users.delete(name);
        const v = this.lookup(name);
        if (v) await unmount(v.mountpoint, { lazy: true }).catch((e: unknown) => problems.push(`unmounting volume ${name}: ${messageOf(e)}`));
      });
    }
    if (problems.length > 0) throw systemError(joinProblems(problems));
  }

  /** After a daemon restart: container `id` runs with these volumes, which stay mounted. */
  restore(id: string, names: readonly string[]): void {
    for (const name of names) {
      const v = this.lookup(name);
      if (!v || !volumeFilesystem(v.options)) continue;
      this.users.set(name, (this.users.get(name) ?? new Set<string>()).add(id));
    }
  }

  /** After restore: unmount the volumes a crash left mounted with no running user. Returns their names. */
  async sweep(volumes: readonly MountableVolume[]): Promise<string[]> {
    const orphans = volumes.filter((v) => volumeFilesystem(v.options) && !this.users.has(v.name) && isMountPoint(v.mountpoint));
    for (const v of orphans) await this.serial.run([v.name], async () => unmount(v.mountpoint, { lazy: true }));
    return orphans.map((v) => v.name);
  }

  /** Whether a container counts as a user of the volume's filesystem. */
  inUse(name: string): boolean {
    return (this.users.get(name)?.size ?? 0) > 0;
  }
}

/** Something mounted exactly at path (a bind from the same filesystem too). */
export function isMountPoint(path: string): boolean {
  const target = resolve(path);
  return mountPointsUnder(target).some((p) => p === target);
}

/** A cifs password in o= never reaches an error (moby masks it the same way). */
export function withoutPassword(message: string): string {
  return message.replace(/password=[^,\s]*/, 'password=********');
}
