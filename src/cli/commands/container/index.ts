/** The `berth container` verbs and their top-level shortcuts (`berth run`, `berth ps`, …). */
import type { CommandSpec, GroupSpec } from '../../registry.js';
import { containerAttach } from './attach.js';
import { containerCreate } from './create.js';
import { containerExec } from './exec.js';
import { containerInspect, inspect } from './inspect.js';
import { containerLogs } from './logs.js';
import { containerLs } from './ls.js';
import { containerPort } from './port.js';
import { containerRm } from './rm.js';
import { containerRun } from './run.js';
import { containerStart } from './start.js';
import { containerKill, containerRestart, containerStop } from './stop.js';
import { containerWait } from './wait.js';

export const containerGroup: GroupSpec = { path: ['container'], summary: 'Manage containers' };

export const containerCommands: readonly CommandSpec[] = [
  containerAttach,
  containerCreate,
  containerExec,
  containerInspect,
  containerKill,
  containerLogs,
  containerLs,
  containerPort,
  containerRestart,
  containerRm,
  containerRun,
  containerStart,
  containerStop,
  containerWait,
];

/** The same command under a top-level name, listed in `berth --help` like docker's shortcuts. */
export function shortcut(cmd: CommandSpec, name: string): CommandSpec {
  return { ...cmd, path: [name], aliases: [] };
}

export const containerShortcuts: readonly CommandSpec[] = [
  shortcut(containerAttach, 'attach'),
  shortcut(containerCreate, 'create'),
  shortcut(containerExec, 'exec'),
  shortcut(containerKill, 'kill'),
  shortcut(containerLogs, 'logs'),
  shortcut(containerLs, 'ps'),
  shortcut(containerPort, 'port'),
  shortcut(containerRestart, 'restart'),
  shortcut(containerRm, 'rm'),
  shortcut(containerRun, 'run'),
  shortcut(containerStart, 'start'),
  shortcut(containerStop, 'stop'),
  shortcut(containerWait, 'wait'),
  inspect,
];
