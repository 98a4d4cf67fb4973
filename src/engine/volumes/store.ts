/**
 * Named volumes (the "local" driver): a folder per volume.
 *
 * Layout under <dataRoot>/volumes/<name>/:
 *   _data/        the volume's contents, bind-mounted into containers
 *   meta.json     { "CreatedAt", "Labels", "Options" }
 * Names and options are checked before they touch the filesystem, so "..", "/" or NUL
 * never do. A volume whose options name a filesystem has it mounted on _data while
 * containers use it (mounts.ts keeps the count).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { conflict, invalid, notFound, systemError } from '../../errors.js';
import { NO_EVENTS, type EventSink } from '../../events/types.js';
import { checkVolumeOptions, volumeFilesystem } from './options.js';
import { isMountPoint, VolumeMounts } from './mounts.js';

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
/** Docker's label on volumes created without a name (anonymous volumes). */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

export interface Volume {
  name: string;
  /** Always "local": berth has no volume plugins. */
  driver: 'local';
  mountpoint: string;
  createdAt: string;
  labels: Record<string, string>;
  options: Record<string, string>;
}

export class VolumeStore {
  private readonly root: string;
  /** The filesystems of volumes with type/device options, mounted while containers use them. */
  readonly mounts = new VolumeMounts((name) => this.tryGet(name));

  constructor(
    dataRoot: string,
    private readonly events: EventSink = NO_EVENTS,
  ) {
    this.root = path.join(dataRoot, 'volumes');
    fs.mkdirSync(this.root, { recursive: true, mode: 0o700 });
  }

  static validateName(name: string): string {
    if (!NAME.test(name) || name.length > 255) {
      throw invalid(`create ${name.slice(0, 64)}: "${name.slice(0, 64)}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
    }
    return name;
  }

  /** Create (or return the existing) volume; an empty name makes an anonymous one (a random name and ANONYMOUS_LABEL). */
  create(name: string, opts: { labels?: Record<string, string>; options?: Record<string, string>; driver?: string } = {}): Volume {
    if (opts.driver && opts.driver !== 'local') throw notFound(`plugin "${opts.driver}" not found`);
    const n = name === '' ? randomBytes(32).toString('hex') : VolumeStore.validateName(name);
    checkVolumeOptions(n, opts.options ?? {});
    const existing = this.tryGet(n);
    if (existing) return existing;
    const dir = path.join(this.root, n);
    fs.mkdirSync(path.join(dir, '_data'), { recursive: true, mode: 0o755 });
    const labels = name === '' ? { ...opts.labels, [ANONYMOUS_LABEL]: '' } : (opts.labels ?? {});
    const meta = { CreatedAt: new Date().toISOString(), Labels: labels, Options: opts.options ?? {} };
    fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify(meta));
    this.events.emit('volume', 'create', n, { driver: 'local' });
    return this.get(n);
  }

  get(name: string): Volume {
    const v = this.tryGet(name);
    if (!v) throw notFound(`get ${name.slice(0, 64)}: no such volume`);
    return v;
  }

  private tryGet(name: string): Volume | undefined {
    if (!NAME.test(name)) return undefined;
    const dir = path.join(this.root, name);
    try {
      const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) as { CreatedAt: string; Labels: Record<string, string>; Options?: Record<string, string> };
      return { name, driver: 'local', mountpoint: path.join(dir, '_data'), createdAt: meta.CreatedAt, labels: meta.Labels, options: meta.Options ?? {} };
    } catch {
      return undefined;
    }
  }

  list(): Volume[] {
    return fs.readdirSync(this.root).flatMap((n) => this.tryGet(n) ?? []);
  }

  /** Remove a volume; `inUseBy` names the containers using it (refused unless empty). */
  remove(name: string, inUseBy: string[], force = false): void {
    const v = this.tryGet(name);
    if (!v) {
      if (force) return;
      throw notFound(`get ${name.slice(0, 64)}: no such volume`);
    }
    if (inUseBy.length > 0) throw conflict(`remove ${name}: volume is in use - [${inUseBy.join(', ')}]`);
    // Never delete through a mount: its files are the filesystem's (a host folder's, for a bind).
    if (volumeFilesystem(v.options) && (this.mounts.inUse(name) || isMountPoint(v.mountpoint))) throw systemError(`remove ${name}: volume has active mounts`);
    fs.rmSync(path.join(this.root, name), { recursive: true, force: true });
    this.events.emit('volume', 'destroy', name, { driver: 'local' });
  }
}
