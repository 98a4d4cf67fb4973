/**
 * The classic builder (moby's builder/dockerfile): the plan's steps one by one, each
 * printed as `Step N/M : INSTR`; FROM starts a stage from an image (pulled when
 * missing), a stage, or scratch; every other step commits an image (a layer for RUN,
 * COPY, ADD and a WORKDIR that makes its folder; config only for the rest) unless the
 * cache has it (` ---> Using cache`). The result is the last stage's image, tagged.
 */
import { invalid } from '../../errors.js';
import { shortId, type Digest } from '../images/config.js';
import { commitOrReuse, nopProbe, type StepDeps } from './step-commit.js';
import { parseDockerfile, type Dockerfile, type Instruction } from './dockerfile.js';
import { copyStep, type CopyContext } from './copy-step.js';
import type { IgnoreMatcher } from './ignore.js';
import { applyArg, applyMetadata, isMetadata, unconsumed } from './instructions.js';
import { planBuild, type Stage } from './plan.js';
import { cancelled, type BuilderDeps, type RunLimits } from './ports.js';
import { runStep } from './run-step.js';
import { StageState, type BuildArgs } from './state.js';
import { expandWord } from './substitute.js';
import { workdirStep } from './workdir-step.js';

export interface BuildOptions {
  /** The extracted context. */
  contextDir: string;
  /** Scratch space for the build (staging folders). */
  scratchDir: string;
  /** The parsed Dockerfile. */
  dockerfile: Dockerfile;
  /** The context's .dockerignore. */
  ignore: IgnoreMatcher;
  /** `--build-arg` values. */
  buildArgs: Record<string, string | null>;
  /** `--label`s: LABEL steps at the end of the last stage. */
  labels: Record<string, string>;
  /** --no-cache. */
  noCache: boolean;
  /** --target: the stage to stop after. */
  target: string | undefined;
  /** --network for RUN containers (`default`: the default bridge). */
  networkMode: string;
  /** --memory, --cpu-*, --shm-size, --add-host for RUN containers. */
  limits: RunLimits;
  /** Remove intermediate containers after a successful step (default true). */
  rm: boolean;
  /** Remove them after a failed one too. */
  forceRm: boolean;
}

interface DoneStage {
  stage: Stage;
  state: StageState;
}

export class Builder {
  private step = 0;
  private total = 0;
  private readonly done: DoneStage[] = [];
  private readonly args: BuildArgs;

  constructor(
    private readonly deps: BuilderDeps,
    private readonly opts: BuildOptions,
  ) {
    this.args = { given: opts.buildArgs, consumed: new Set(), meta: new Map() };
  }

  private say(text: string): void {
    this.deps.out.stream(text);
  }

  private announce(instr: Instruction): void {
    if (this.deps.signal.aborted) throw cancelled();
    this.step++;
    this.say(`Step ${this.step}/${this.total} : ${instr.original}\n`);
  }

  /** Run the build; returns the final image's ID. */
  async run(): Promise<Digest> {
    const plan = planBuild(this.opts.dockerfile, this.opts.target, this.opts.labels);
    this.total = plan.total;
    for (const instr of plan.metaArgs) {
      this.announce(instr);
      applyArg(instr, undefined, this.args, this.opts.dockerfile.escape);
    }
    for (const stage of plan.stages) {
      const state = await this.from(stage);
      for (const instr of stage.body) await this.dispatch(instr, state);
      if (state.image !== undefined) this.deps.out.message({ aux: { ID: state.image } });
      this.done.push({ stage, state });
    }
    const last = this.done[this.done.length - 1]!.state;
    const left = unconsumed(this.args);
    if (left.length > 0) this.say(`[Warning] One or more build-args [${left.join(' ')}] were not consumed\n`);
    if (last.image === undefined) throw invalid('No image was generated. Is your Dockerfile empty?');
    return last.image;
  }

  private metaVars(): string[] {
    return [...this.args.meta].filter((e): e is [string, string] => e[1] !== undefined).map(([k, v]) => `${k}=${v}`);
  }

  private async from(stage: Stage): Promise<StageState> {
    this.announce(stage.from);
    const ref = expandWord(stage.base, this.metaVars(), this.opts.dockerfile.escape);
    if (ref === '') throw invalid('base name (' + stage.base + ') should not be blank');
    const earlier = this.done.find((d) => d.stage.name === ref.toLowerCase());
    let state: StageState;
    if (earlier !== undefined) {
      state = new StageState(earlier.state.image, earlier.state.config);
    } else if (ref.toLowerCase() === 'scratch') {
      state = new StageState(undefined, {});
    } else {
      const id = await this.deps.bases.ensure(ref, this.deps.out);
      state = new StageState(id, this.deps.images.get(id)?.config.config ?? {});
    }
    this.say(` ---> ${state.image === undefined ? '' : shortId(state.image)}\n`);
    await this.onBuildTriggers(state);
    return state;
  }

  /** The base image's ONBUILD triggers run first, as Docker runs them. */
  private async onBuildTriggers(state: StageState): Promise<void> {
    const triggers = state.config.OnBuild ?? [];
    if (triggers.length === 0) return;
    state.config.OnBuild = [];
    this.say(`# Executing ${triggers.length} build trigger${triggers.length === 1 ? '' : 's'}\n`);
    for (const trigger of triggers) {
      for (const instr of parseDockerfile(trigger).instructions) await this.execute(instr, state);
    }
  }

  private async dispatch(instr: Instruction, state: StageState): Promise<void> {
    this.announce(instr);
    await this.execute(instr, state);
  }

  private async execute(instr: Instruction, state: StageState): Promise<void> {
    if (instr.cmd === 'run') {
      await runStep(this.stepDeps(), instr, state);
      return;
    }
    if (instr.cmd === 'copy' || instr.cmd === 'add') {
      await copyStep(this.stepDeps(), this.copyContext(), instr, state);
      return;
    }
    if (!isMetadata(instr.cmd)) throw invalid(`unknown instruction: ${instr.cmd.toUpperCase()}`);
    const comment = applyMetadata(instr, state, this.args, this.opts.dockerfile.escape);
    if (instr.cmd === 'workdir') {
      await workdirStep(this.stepDeps(), this.opts.scratchDir, comment, state);
      return;
    }
    await this.commitMetadata(state, comment);
  }

  /** What RUN, COPY and WORKDIR steps need. */
  private stepDeps(): StepDeps {
    return { ...this.deps, noCache: this.opts.noCache, networkMode: this.opts.networkMode, limits: this.opts.limits, rm: this.opts.rm, forceRm: this.opts.forceRm, escape: this.opts.dockerfile.escape };
  }

  private copyContext(): CopyContext {
    return {
      contextDir: this.opts.contextDir,
      scratchDir: this.opts.scratchDir,
      ignore: this.opts.ignore,
      stageImage: (name) => {
        const byName = this.done.find((d) => d.stage.name === name.toLowerCase() || String(d.stage.index) === name);
        return byName === undefined ? undefined : { image: byName.state.image };
      },
    };
  }

  private async commitMetadata(state: StageState, comment: string): Promise<void> {
    const probe = nopProbe(state, comment);
    await commitOrReuse(this.stepDeps(), state, probe);
  }
}
