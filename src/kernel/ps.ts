/** ps(1) on the host, for docker top. */
import { KernelCommandError, run } from './exec.js';
import { systemError } from '../errors.js';

/**
 * `ps <args> -q<pids>`, as dockerd runs it; some options (f) refuse -q, so on failure it
 * runs once more without it. The error is ps's first line of stderr.
 */
export async function psOutput(args: readonly string[], pids: readonly number[]): Promise<string> {
  try {
    return await run('ps', [...args, `-q${pids.join(',')}`]);
  } catch {
    try {
      return await run('ps', args);
    } catch (e: unknown) {
      const first = e instanceof KernelCommandError ? e.stderr.split('\n')[0] : undefined;
      throw systemError(`ps: ${first || (e instanceof Error ? e.message : String(e))}`);
    }
  }
}
