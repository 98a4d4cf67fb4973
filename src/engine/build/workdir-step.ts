/**
 * WORKDIR: the config's working folder, and a layer holding that folder when the image
 * does not have it yet (as the classic builder makes it); else config only.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { folderSource, packTree } from '../images/tar-tree.js';
import { commitOrReuse, nopProbe, type StepDeps } from './step-commit.js';
import { ImageTree } from './image-tree.js';
import { stageFolder } from './stage.js';
import type { StageState } from './state.js';

export async function workdirStep(deps: StepDeps, scratchDir: string, comment: string, state: StageState): Promise<void> {
  const dir = state.config.WorkingDir ?? '/';
  const tree = new ImageTree(state.image === undefined ? [] : deps.images.layerDirs(state.image));
  const present = (await tree.stat(dir.slice(1)))?.isDirectory() === true;
  if (present || dir === '/') {
    await commitOrReuse(deps, state, nopProbe(state, comment));
    return;
  }
  const staging = await fs.mkdtemp(path.join(scratchDir, 'workdir-'));
  try {
    await commitOrReuse(deps, state, nopProbe(state, comment), {
      make: async () => {
        await stageFolder(staging, dir, tree);
        return { layer: packTree(folderSource(staging), { rootName: '', includeRoot: false }) };
      },
    });
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}
