/**
 * COPY and ADD: sources from the build context (what .dockerignore leaves out is not
 * there), or with `COPY --from` from an earlier stage or an image; their content hash
 * keys the cache (`COPY file:<hex> in /dst `); the files are staged and become the
 * step's layer. ADD unpacks local archives; ADD of a URL is refused.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { invalid, notImplemented } from '../../errors.js';
import type { Digest } from '../images/config.js';
import { folderSource, packTree } from '../images/tar-tree.js';
import { commitOrReuse, nopProbe, type StepDeps } from './step-commit.js';
import { checkFlags, flagValue, type Instruction } from './dockerfile.js';
import type { IgnoreMatcher } from './ignore.js';
import { ImageTree } from './image-tree.js';
import { resolveChown } from './owner.js';
import { cleanSource, findSources, hashSources, type Source } from './sources.js';
import { stageCopy } from './stage.js';
import type { StageState } from './state.js';
import { expandWord, rawWords } from './substitute.js';

export interface CopyContext {
  /** The extracted build context. */
  contextDir: string;
  /** Where a step stages its files. */
  scratchDir: string;
  /** The context's .dockerignore. */
  ignore: IgnoreMatcher;
  /** An earlier stage by name or index (its image so far), or undefined. */
  stageImage(name: string): { image: Digest | undefined } | undefined;
}

const GLOB = /[*?[]/;

/** The part of a source path before its first glob element. */
function fixedPrefix(rel: string): string {
  const parts = rel === '' ? [] : rel.split('/');
  const at = parts.findIndex((p) => GLOB.test(p));
  return (at === -1 ? parts : parts.slice(0, at)).join('/');
}

interface SourceRoot {
  /** The folder the sources are found under. */
  root: string;
  /** .dockerignore (the context only). */
  ignore: IgnoreMatcher | undefined;
  /** Files copied from an image keep their owners unless --chown says otherwise. */
  keepOwners: boolean;
}

/** The root the sources are found under: the context, or an image's files put in a scratch folder. */
async function sourceRoot(deps: StepDeps, ctx: CopyContext, from: string | undefined, srcs: readonly string[], scratch: string): Promise<SourceRoot> {
  if (from === undefined) return { root: ctx.contextDir, ignore: ctx.ignore, keepOwners: false };
  const stage = ctx.stageImage(from);
  const image = stage !== undefined ? stage.image : await deps.bases.ensure(from, deps.out);
  const tree = new ImageTree(image === undefined ? [] : deps.images.layerDirs(image));
  const root = path.join(scratch, 'from');
  await fs.mkdir(root, { recursive: true });
  for (const src of srcs) {
    const prefix = fixedPrefix(cleanSource(src));
    await tree.materialize(await tree.resolve(`/${prefix}`, true), path.join(root, prefix));
  }
  return { root, ignore: undefined, keepOwners: true };
}

export async function copyStep(deps: StepDeps, ctx: CopyContext, instr: Instruction, state: StageState): Promise<void> {
  const verb = instr.cmd.toUpperCase();
  if (instr.flags.some((f) => f.name === 'chmod')) throw invalid('the --chmod option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled');
  checkFlags(instr, instr.cmd === 'copy' ? ['from', 'chown'] : ['chown']);
  const vars = state.vars();
  const words = (instr.json ?? rawWords(instr.args, deps.escape)).map((w) => expandWord(w, vars, deps.escape));
  if (words.length < 2) throw invalid(`${verb} requires at least two arguments, but got ${words.length}`);
  const dest = words[words.length - 1]!;
  const srcs = words.slice(0, -1);
  if (instr.cmd === 'add' && srcs.some((s) => /^https?:\/\//i.test(s))) {
    throw notImplemented("ADD from a URL is not supported by berth's builder: download the file into the build context and COPY it");
  }
  const fromFlag = flagValue(instr, 'from');
  const from = fromFlag === undefined ? undefined : expandWord(fromFlag, vars, deps.escape);
  const chownFlag = flagValue(instr, 'chown');
  const chown = chownFlag === undefined ? undefined : expandWord(chownFlag, vars, deps.escape);
  const scratch = await fs.mkdtemp(path.join(ctx.scratchDir, 'copy-'));
  try {
    const src = await sourceRoot(deps, ctx, from, srcs, scratch);
    const sources: Source[] = [];
    for (const s of srcs) sources.push(...(await findSources(src.root, s, src.ignore, verb)));
    if (sources.length === 0) throw invalid(`${verb} failed: no source files were specified`);
    const hash = await hashSources(sources, src.ignore);
    const image = new ImageTree(state.image === undefined ? [] : deps.images.layerDirs(state.image));
    const owner = (await resolveChown(chown, image)) ?? (src.keepOwners ? undefined : { uid: 0, gid: 0 });
    const comment = `${verb} ${chown === undefined ? '' : `--chown=${chown} `}${from === undefined ? '' : `--from=${from} `}${hash} in ${dest} `;
    const staging = path.join(scratch, 'layer');
    await commitOrReuse(deps, state, nopProbe(state, comment), {
      make: async () => {
        await fs.mkdir(staging);
        await stageCopy({ staging, sources, dest, workdir: state.config.WorkingDir ?? '/', owner, image, ignore: src.ignore, unpack: instr.cmd === 'add', verb });
        return { layer: packTree(folderSource(staging), { rootName: '', includeRoot: false }) };
      },
    });
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}
