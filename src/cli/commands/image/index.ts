/** The `berth image` verbs and their top-level shortcuts (`berth images`, `berth pull`, …). */
import type { CommandSpec, GroupSpec } from '../../registry.js';
import { objectFormatFlag } from '../common.js';
import { shortcut } from '../container/index.js';
import { FETCHERS, inspectAll } from '../container/inspect.js';
import { imageImport } from './import.js';
import { imageLoad } from './load.js';
import { imageLs } from './ls.js';
import { imagePull } from './pull.js';
import { imageRm } from './rm.js';
import { imageTag } from './tag.js';

export const imageGroup: GroupSpec = { path: ['image'], summary: 'Manage images' };

const imageInspect: CommandSpec = {
  path: ['image', 'inspect'],
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  summary: 'Display detailed information on one or more images',
  flags: [objectFormatFlag('f')],
  args: { min: 1 },
  run: (ctx) => inspectAll(ctx, ctx.args, FETCHERS.image(ctx)),
};

export const imageCommands: readonly CommandSpec[] = [imageImport, imageInspect, imageLoad, imageLs, imagePull, imageRm, imageTag];

export const imageShortcuts: readonly CommandSpec[] = [
  shortcut(imageLs, 'images'),
  shortcut(imageImport, 'import'),
  shortcut(imageLoad, 'load'),
  shortcut(imagePull, 'pull'),
  shortcut(imageRm, 'rmi'),
  shortcut(imageTag, 'tag'),
];
