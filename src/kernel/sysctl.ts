/**
 * Sysctls of a network namespace. /proc/sys/net shows the namespace of the process that
 * opens it, so the daemon writes its own namespace's values directly; another namespace
 * (tests, a sandbox) is written by a `sysctl` child entered into it.
 *
 * Keys are given as path segments, ['net', 'ipv4', 'conf', 'br-1a2b', 'route_localnet'],
 * because interface names may contain dots (eth0.100) that the dotted form would split.
 */
import * as fs from 'node:fs/promises';
import { systemError, messageOf } from '../errors.js';
import { run } from './exec.js';

export interface SysctlSetting {
  key: readonly string[];
  value: string;
  /** Skipped when the key does not exist (a feature the kernel does not have loaded). */
  optional?: boolean;
}

export interface SysctlOptions {
  /** Path of another network namespace (nsenter --net=PATH); default: the daemon's own. */
  netns?: string;
}

const SEGMENT = /^[^/\0]+$/;

function pathOf(key: readonly string[]): string {
  if (key.length === 0 || !key.every((k) => SEGMENT.test(k) && k !== '.' && k !== '..')) {
    throw systemError(`invalid sysctl key: ${key.join('/')}`);
  }
  return key.join('/');
}

/** "net.ipv4.ip_forward" → ['net', 'ipv4', 'ip_forward'] (only for keys without dotted names). */
export const sysctlKey = (dotted: string): string[] => dotted.split('.');

export async function readSysctl(key: readonly string[], opts: SysctlOptions = {}): Promise<string> {
  const p = pathOf(key);
  if (opts.netns) return (await run('sysctl', ['-n', p], { netns: opts.netns })).trim();
  try {
    return (await fs.readFile(`/proc/sys/${p}`, 'utf8')).trim();
  } catch (e: unknown) {
    throw systemError(`cannot read sysctl ${p}: ${messageOf(e)}`);
  }
}

/** Sets one value. Idempotent. */
export async function writeSysctl(key: readonly string[], value: string, opts: SysctlOptions = {}): Promise<void> {
  const p = pathOf(key);
  if (opts.netns) {
    await run('sysctl', ['-q', '-w', `${p}=${value}`], { netns: opts.netns });
    return;
  }
  try {
    await fs.writeFile(`/proc/sys/${p}`, value);
  } catch (e: unknown) {
    throw systemError(`cannot set sysctl ${p}=${value}: ${messageOf(e)}`);
  }
}

/** Sets every value that differs; returns the settings that were changed. */
export async function ensureSysctls(settings: readonly SysctlSetting[], opts: SysctlOptions = {}): Promise<SysctlSetting[]> {
  const changed: SysctlSetting[] = [];
  for (const s of settings) {
    let current: string;
    try {
      current = await readSysctl(s.key, opts);
    } catch (e: unknown) {
      if (s.optional) continue;
      throw e;
    }
    if (current === s.value) continue;
    await writeSysctl(s.key, s.value, opts);
    changed.push(s);
  }
  return changed;
}
