/** The container's process from its spec and its image's config (Docker's merge rules). */
import { invalid } from '../../errors.js';
import type { ImageRunConfig } from '../images/index.js';
import type { ContainerSpec } from './model.js';

export interface ResolvedProcess {
  args: string[];
  env: string[];
  cwd: string;
  /** Docker's user spec; the runtime looks it up in the container's /etc/passwd and /etc/group. */
  user: string;
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function resolveProcess(spec: ContainerSpec, image: ImageRunConfig, hostname: string): ResolvedProcess {
  const p = spec.process;
  // An entrypoint given at create drops the image's Cmd unless a Cmd is given too.
  const entrypoint = p.entrypoint.length > 0 ? p.entrypoint : (image.Entrypoint ?? []);
  const cmd = p.cmd.length > 0 ? p.cmd : p.entrypoint.length > 0 ? [] : (image.Cmd ?? []);
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw invalid('no command specified');
  return {
    args,
    env: mergeEnv([DEFAULT_PATH, `HOSTNAME=${hostname}`, ...(image.Env ?? []), ...p.env, ...(p.tty ? ['TERM=xterm'] : [])]),
    cwd: p.workingDir || image.WorkingDir || '/',
    user: p.user || image.User || '',
  };
}

/** Later KEY=value entries win; a bare KEY unsets it; the order of first appearance is kept. */
export function mergeEnv(entries: string[]): string[] {
  const map = new Map<string, string>();
  for (const e of entries) {
    const eq = e.indexOf('=');
    if (eq < 0) map.delete(e);
    else map.set(e.slice(0, eq), e);
  }
  return [...map.values()];
}
