/**
 * Committing a step: the cache probed first (` ---> Using cache`), else the step's
 * files made and its image committed (` ---> <id>`); the stage moves on to it.
 */
import { shortId, type ImageRunConfig } from '../images/config.js';
import { findCached } from './cache.js';
import { cacheCandidates, commitStep } from './commit-image.js';
import type { BuilderDeps, RunLimits } from './ports.js';
import type { StageState } from './state.js';

/** What a step needs beyond the stage's state. */
export interface StepDeps extends BuilderDeps {
  /** --no-cache: never probe the cache. */
  noCache: boolean;
  /** The network RUN containers join (`default`: the default bridge). */
  networkMode: string;
  /** HostConfig limits for RUN containers. */
  limits: RunLimits;
  /** Remove a RUN container once its step is committed. */
  rm: boolean;
  /** Remove a RUN container whose command failed too. */
  forceRm: boolean;
  /** The Dockerfile's escape character. */
  escape: string;
}

/** The probe of a config-only step: the config with `<shell> #(nop) <comment>` as Cmd. */
export function nopProbe(state: StageState, comment: string): ImageRunConfig {
  return { ...structuredClone(state.config), Cmd: [...state.shell, `#(nop) ${comment}`] };
}

/** How a step makes its image when the cache does not have it. */
export interface StepMaking {
  /** The step's files (and the container they came from); none for a config-only step. */
  make?: () => Promise<{ layer?: AsyncIterable<Buffer>; container?: string }>;
  /** Called once the image is committed, before its ID is printed (intermediate container removal). */
  after?: () => Promise<void>;
  /** Print nothing (the labels added at the end). */
  quiet?: boolean;
}

/**
 * The step's image from the cache, or committed now. Prints Docker's lines and moves
 * the stage on.
 */
export async function commitOrReuse(deps: StepDeps, state: StageState, probe: ImageRunConfig, how: StepMaking = {}): Promise<void> {
  const say = (text: string): void => {
    if (how.quiet !== true) deps.out.stream(text);
  };
  if (!deps.noCache) {
    const hit = findCached(cacheCandidates(deps.images), state.image, probe);
    if (hit !== undefined) {
      say(' ---> Using cache\n');
      state.image = hit;
      say(` ---> ${shortId(hit)}\n`);
      return;
    }
  }
  const made = how.make === undefined ? {} : await how.make();
  state.image = await commitStep(deps.images, {
    parent: state.image,
    run: state.config,
    probe,
    ...(made.layer === undefined ? {} : { layer: made.layer }),
    ...(made.container === undefined ? {} : { container: made.container }),
    ...(state.author === undefined ? {} : { author: state.author }),
  });
  await how.after?.();
  say(` ---> ${shortId(state.image)}\n`);
}
