/**
 * Every verb berth knows. To add one (say `ps`): write a CommandSpec in a file under
 * commands/ (commands/container/ls.ts with path ['container', 'ls'] and alias ['ps']),
 * export it from its group's index, and list the group here. Docker's top-level
 * shortcuts (`berth run` for `berth container run`) are separate entries so both are
 * listed in help.
 */
import { CommandRegistry } from '../registry.js';
import { containerCommands, containerGroup, containerShortcuts } from './container/index.js';
import { imageCommands, imageGroup, imageShortcuts } from './image/index.js';
import { networkCommands, networkGroup } from './network/index.js';
import { systemCommands } from './system/index.js';
import { volumeCommands, volumeGroup } from './volume/index.js';

export function defaultRegistry(): CommandRegistry {
  return new CommandRegistry()
    .addGroup(containerGroup)
    .addGroup(imageGroup)
    .addGroup(networkGroup)
    .addGroup(volumeGroup)
    .add(...containerCommands, ...containerShortcuts, ...imageCommands, ...imageShortcuts, ...networkCommands, ...volumeCommands, ...systemCommands);
}
