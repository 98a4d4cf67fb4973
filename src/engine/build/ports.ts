/**
 * What the builder needs from the rest of the daemon, as small interfaces: the image
 * store, base images (found or pulled), containers for RUN (made the way the API makes
 * them, handed in by the API layer), and where the output goes.
 */
import { BerthError } from '../../errors.js';
import type { Digest, ImageRunConfig } from '../images/config.js';
import type { ImageStore } from '../images/store.js';

export type BuildImages = Pick<ImageStore, 'lookup' | 'get' | 'list' | 'rawConfig' | 'layerDirs' | 'createChild' | 'tag'>;

/** The build's output, as the classic builder's JSON stream carries it. */
export interface BuildOutput {
  /** A piece of `{"stream": …}` text (lines end with \n). */
  stream(text: string): void;
  /** Another JSON message of the stream: a base image's pull progress, a stage's image ID (aux). */
  message(msg: Record<string, unknown>): void;
}

/** One RUN step's container. */
export interface StepRun {
  /** The image to start from. */
  image: Digest;
  /** Cmd, Env, User, WorkingDir as the step runs them (Entrypoint is cleared). */
  config: ImageRunConfig;
  /** `default`, `bridge`, `host`, `none`, a network's name, or `container:<id>`. */
  networkMode: string;
  /** The build's --memory, --cpu-*, --shm-size and --add-host for its RUN containers. */
  limits: RunLimits;
  /** Aborted when the build is cancelled: the container is killed. */
  signal: AbortSignal;
}

/** HostConfig fields a build sets on its RUN containers, in Docker's names (unset: the default). */
export interface RunLimits {
  /** Bytes. */
  Memory?: number;
  /** Bytes of memory and swap; -1 unlimited. */
  MemorySwap?: number;
  CpuShares?: number;
  CpusetCpus?: string;
  CpuPeriod?: number;
  CpuQuota?: number;
  /** Bytes of /dev/shm. */
  ShmSize?: number;
  /** `host:ip` lines for /etc/hosts. */
  ExtraHosts?: string[];
}

export interface BuildContainers {
  /**
   * Create a container for the step; `created` is told its ID before it starts; its
   * output goes to `out` as it comes. Resolves with its exit code once it has exited
   * and its output has been read.
   */
  run(step: StepRun, created: (id: string) => void, out: (chunk: Buffer) => void): Promise<number>;
  /** The host folder holding the container's writable layer (overlayfs upper). */
  upperDir(id: string): string;
  /** Remove the container (forced, with its anonymous volumes). */
  remove(id: string): Promise<void>;
}

export interface BaseImages {
  /** The image `ref` names, pulled first when it is not stored; progress goes to `out`. */
  ensure(ref: string, out: BuildOutput): Promise<Digest>;
}

/** A failed RUN: Docker's JSONError carries the exit code beside the message. */
export class StepFailed extends BerthError {
  constructor(
    message: string,
    /** The command's exit code. */
    readonly code: number,
  ) {
    super('InvalidParameter', message);
  }
}

/** What the builder is given. */
export interface BuilderDeps {
  /** The image store. */
  images: BuildImages;
  /** FROM's images, found or pulled. */
  bases: BaseImages;
  /** RUN's containers. */
  containers: BuildContainers;
  /** The build's output stream. */
  out: BuildOutput;
  /** Aborted when the client goes away (Ctrl-C): the build stops at once, its RUN container killed. */
  signal: AbortSignal;
}

/** The build was cancelled (the client went away), in Go's words for a cancelled context. */
export function cancelled(): BerthError {
  return new BerthError('Unavailable', 'context canceled');
}
