/**
 * A Dockerfile's build plan: the ARGs before the first FROM (meta args, visible to
 * FROM lines), then the stages (`FROM image [AS name]` and what follows), cut after the
 * `--target` stage. Pure.
 */
import { invalid } from '../../errors.js';
import type { Dockerfile, Instruction } from './dockerfile.js';
import { rawWords } from './substitute.js';

export interface Stage {
  /** 0-based position, what `COPY --from=0` names. */
  index: number;
  /** The `AS` name, lower-cased; undefined without one. */
  name: string | undefined;
  /** The base image as written (variables not yet expanded). */
  base: string;
  /** The FROM instruction itself. */
  from: Instruction;
  /** The stage's instructions after FROM. */
  body: Instruction[];
}

export interface BuildPlan {
  /** ARGs before the first FROM. */
  metaArgs: Instruction[];
  /** The stages to build, in order. */
  stages: Stage[];
  /** Steps the output counts (`Step N/M`). */
  total: number;
}

function stageOf(from: Instruction, index: number, escape: string): Stage {
  const words = rawWords(from.args, escape);
  if (words.length !== 1 && words.length !== 3) throw invalid('FROM requires either one or three arguments');
  if (words.length === 3 && words[1]!.toLowerCase() !== 'as') throw invalid("FROM requires either one or three arguments");
  const name = words.length === 3 ? words[2]!.toLowerCase() : undefined;
  if (name !== undefined && !/^[a-z][a-z0-9-_.]*$/.test(name)) throw invalid(`invalid name for build stage: "${words[2] ?? ''}", name can't start with a number or contain symbols`);
  return { index, name, base: words[0] ?? '', from, body: [] };
}

/** The LABEL steps `--label` options add to the last stage, sorted by key (dockerd's buildLabelOptions). */
function labelSteps(labels: Readonly<Record<string, string>>): Instruction[] {
  return Object.keys(labels)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((key) => {
      const value = labels[key] ?? '';
      return { cmd: 'label', original: `LABEL ${key}=${value}`, flags: [], args: '', json: undefined, line: 0, literalLabel: { key, value } };
    });
}

/**
 * Split the Dockerfile into meta args and stages; `target` keeps the stages up to it;
 * `labels` (--label) become LABEL steps at the end of the last stage kept.
 */
export function planBuild(df: Dockerfile, target?: string, labels: Readonly<Record<string, string>> = {}): BuildPlan {
  const metaArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const instr of df.instructions) {
    if (instr.cmd === 'from') {
      const stage = stageOf(instr, stages.length, df.escape);
      if (stage.name !== undefined && stages.some((s) => s.name === stage.name)) throw invalid(`duplicate name ${stage.name}`);
      stages.push(stage);
      continue;
    }
    const current = stages[stages.length - 1];
    if (current !== undefined) current.body.push(instr);
    else if (instr.cmd === 'arg') metaArgs.push(instr);
    else throw invalid('no build stage in current context');
  }
  if (stages.length === 0) throw invalid('no build stage in current context');
  let kept = stages;
  if (target !== undefined && target !== '') {
    const at = stages.findIndex((s) => s.name === target.toLowerCase());
    if (at === -1) throw invalid(`failed to reach build target ${target} in Dockerfile`);
    kept = stages.slice(0, at + 1);
  }
  kept[kept.length - 1]!.body.push(...labelSteps(labels));
  const total = metaArgs.length + kept.reduce((n, s) => n + 1 + s.body.length, 0);
  return { metaArgs, stages: kept, total };
}
