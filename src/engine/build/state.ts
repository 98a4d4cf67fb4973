/**
 * One stage's state while it builds: the image reached so far, the running config, the
 * ARGs in scope, whether CMD was set in this stage (ENTRYPOINT clears an inherited
 * CMD otherwise), and the variables a step expands with.
 */
import type { Digest, ImageRunConfig } from '../images/config.js';

export interface BuildArgs {
  /** `--build-arg` values as sent (null: take the value from the daemon's environment — berth has none). */
  given: Readonly<Record<string, string | null>>;
  /** Names some ARG declared (for the "not consumed" warning). */
  consumed: Set<string>;
  /** Meta args (declared before the first FROM) with their values. */
  meta: Map<string, string | undefined>;
}

/** Build args every build knows without an ARG, as Docker's builtin ones. */
export const BUILTIN_ARGS = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);

export class StageState {
  /** undefined until something is committed on `FROM scratch`. */
  image: Digest | undefined;
  config: ImageRunConfig;
  /** ARGs declared in this stage and their values (undefined: declared without one). */
  readonly args = new Map<string, string | undefined>();
  cmdSet = false;
  author: string | undefined;

  constructor(image: Digest | undefined, config: ImageRunConfig) {
    this.image = image;
    this.config = structuredClone(config);
  }

  get shell(): string[] {
    return this.config.Shell !== undefined && this.config.Shell.length > 0 ? this.config.Shell : ['/bin/sh', '-c'];
  }

  /** Variables for substitution: ARGs first, so ENV of the same name wins. */
  vars(): string[] {
    const args = [...this.args].filter((e): e is [string, string] => e[1] !== undefined).map(([k, v]) => `${k}=${v}`);
    return [...args, ...(this.config.Env ?? [])];
  }

  /** The ARGs with values that ENV does not shadow, sorted: what RUN sees and its cache key shows. */
  runArgs(): string[] {
    const envKeys = new Set((this.config.Env ?? []).map((e) => e.split('=')[0]));
    return [...this.args]
      .filter((e): e is [string, string] => e[1] !== undefined && !envKeys.has(e[0]))
      .map(([k, v]) => `${k}=${v}`)
      .sort();
  }
}
