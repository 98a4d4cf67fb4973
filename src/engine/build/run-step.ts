/**
 * RUN: the command runs in a container made from the stage's image (its Entrypoint
 * cleared, the build args in its environment, on the build's network), and what it
 * changed — the container's writable layer — becomes the step's layer. The cache key
 * is the command with the build args it saw (`|1 A=b /bin/sh -c make`).
 */
import * as path from 'node:path';
import { invalid } from '../../errors.js';
import { opaqueDirs } from '../../kernel/fs.js';
import { shortId } from '../images/config.js';
import { folderSource, packTree } from '../images/tar-tree.js';
import { commitOrReuse, type StepDeps } from './step-commit.js';
import { checkFlags, type Instruction } from './dockerfile.js';
import { cancelled, StepFailed } from './ports.js';
import type { StageState } from './state.js';

/** The container's writable layer as a layer archive (overlayfs whiteouts become `.wh.` files). */
async function upperLayer(upper: string): Promise<AsyncIterable<Buffer>> {
  const opaque = new Set((await opaqueDirs(upper).catch(() => [])).map((d) => path.relative(upper, d)));
  return packTree(folderSource(upper, { whiteouts: true, opaque }), { rootName: '', includeRoot: false });
}

export async function runStep(deps: StepDeps, instr: Instruction, state: StageState): Promise<void> {
  const buildkitOnly = instr.flags.find((f) => ['mount', 'network', 'security'].includes(f.name));
  if (buildkitOnly !== undefined) throw invalid(`the --${buildkitOnly.name} option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled`);
  checkFlags(instr, []);
  const image = state.image;
  if (image === undefined) throw invalid('RUN cannot run on an empty image: this stage starts FROM scratch and has no files yet');
  const cmd = instr.json ?? [...state.shell, instr.args];
  const args = state.runArgs();
  const probe = { ...structuredClone(state.config), Cmd: args.length > 0 ? [`|${args.length}`, ...args, ...cmd] : cmd };
  let container: string | undefined;
  const remove = async (id: string): Promise<void> => {
    await deps.containers.remove(id);
    deps.out.stream(` ---> Removed intermediate container ${shortId(id)}\n`);
  };
  await commitOrReuse(deps, state, probe, {
    make: async () => {
      const config = { ...structuredClone(state.config), Cmd: cmd, Entrypoint: null, Env: [...(state.config.Env ?? []), ...args] };
      let code: number;
      try {
        code = await deps.containers.run(
          { image, config, networkMode: deps.networkMode, limits: deps.limits, signal: deps.signal },
          (id) => {
            container = id;
            deps.out.stream(` ---> Running in ${shortId(id)}\n`);
          },
          (chunk) => deps.out.stream(chunk.toString()),
        );
      } catch (e: unknown) {
        if (container !== undefined && (deps.forceRm || deps.signal.aborted)) await remove(container);
        throw e;
      }
      if (deps.signal.aborted) {
        await remove(container!);
        throw cancelled();
      }
      if (code !== 0) {
        if (container !== undefined && deps.forceRm) await remove(container);
        throw new StepFailed(`The command '${cmd.join(' ')}' returned a non-zero code: ${code}`, code);
      }
      return { layer: await upperLayer(deps.containers.upperDir(container!)), container: container! };
    },
    after: async () => {
      if (container !== undefined && deps.rm) await remove(container);
    },
  });
}
