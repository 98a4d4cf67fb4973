/** Top-level system verbs. */
import type { CommandSpec } from '../../registry.js';
import { info } from './info.js';
import { version } from './version.js';

export const systemCommands: readonly CommandSpec[] = [info, version];
