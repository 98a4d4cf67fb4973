/**
 * On-disk layout of the runtime, all under the daemon's exec-root (a tmpfs such as
 * /run/berth: state that must outlive a daemon restart but not a reboot):
 *
 *   <execRoot>/runc/                   runc --root: runc's own state, private to this daemon
 *   <execRoot>/runtime/<id>/           the OCI bundle and conmon's files for one container
 *       config.json                    the OCI spec (oci.ts)
 *       berth.json                     BundleMeta: what attach/logs need after a restart
 *       pid, conmon.pid                container init pid, conmon pid
 *       attach                         conmon's SOCK_SEQPACKET attach socket (--full-attach)
 *       ctl, winsz                     conmon's control FIFOs (resize: "1 <rows> <cols>\n" to ctl)
 *       exec/<execId>/                 one tty exec session: process.json, conmon's files
 *   <execRoot>/runtime/exits/<id>      conmon's exit file: the exit code as decimal text
 */
import { join } from 'node:path';

/** berth.json: what the runtime needs about a container beyond config.json. */
export interface BundleMeta {
  /** Mount point of the rootfs overlay, unmounted on delete. */
  rootfs: string;
  logPath: string | null;
  tty: boolean;
  openStdin: boolean;
}

export class Layout {
  constructor(readonly execRoot: string) {}

  get runcRoot(): string {
    return join(this.execRoot, 'runc');
  }
  get bundles(): string {
    return join(this.execRoot, 'runtime');
  }
  get exitDir(): string {
    return join(this.bundles, 'exits');
  }
  bundle(id: string): string {
    return join(this.bundles, id);
  }
  config(id: string): string {
    return join(this.bundle(id), 'config.json');
  }
  meta(id: string): string {
    return join(this.bundle(id), 'berth.json');
  }
  pidFile(id: string): string {
    return join(this.bundle(id), 'pid');
  }
  conmonPidFile(id: string): string {
    return join(this.bundle(id), 'conmon.pid');
  }
  ctlFifo(id: string): string {
    return join(this.bundle(id), 'ctl');
  }
  exitFile(id: string): string {
    return join(this.exitDir, id);
  }
  execDir(id: string, execId: string): string {
    return join(this.bundle(id), 'exec', execId);
  }
}

/** Container and exec ids become path components and runc ids. */
export function isValidId(id: string): boolean {
  return /^[0-9a-zA-Z][0-9a-zA-Z_.-]{0,127}$/.test(id);
}
