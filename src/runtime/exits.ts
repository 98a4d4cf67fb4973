/**
 * Container exits, as conmon records them: it writes the exit code (decimal text) to
 * <exitDir>/<id> after the container's output is drained. Reading that file rather
 * than waiting on a child makes wait() work for containers started by an earlier daemon.
 */
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { BerthError } from '../errors.js';

/** The recorded exit code, or undefined while there is none. */
export async function readExitCode(file: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  const n = parseInt(text.trim(), 10);
  // An empty file is one conmon is still writing.
  return Number.isInteger(n) ? n : undefined;
}

/**
 * With the directory watched, an exit file shows up at once; polling is only there to
 * notice a conmon that died without writing one, so it can be rare (and spread out:
 * with hundreds of containers, one wake-up per container per second is what an idle
 * daemon would otherwise spend its time on).
 */
const LIVENESS_POLL_MS = 5000;

/** Exit code reported when conmon died without recording one. */
export const LOST_EXIT_CODE = 255;

/**
 * Resolve with the exit code in `file`. `alive` is asked now and then whether the
 * exit can still be recorded (conmon lives); when not, and there is still no file,
 * resolves with LOST_EXIT_CODE.
 */
export async function waitExitFile(file: string, alive: () => Promise<boolean>, signal?: AbortSignal): Promise<number> {
  let watcher: FSWatcher | null = null;
  const name = basename(file);
  let wake: () => void = () => undefined;
  let dirty = false;
  try {
    watcher = watch(dirname(file), { persistent: false }, (_event, f) => {
      if (f !== null && f !== name) return;
      dirty = true;
      wake();
    });
  } catch {
    watcher = null; // the poll below still works
  }
  try {
    for (;;) {
      dirty = false;
      // A stat before the read: most polls find no file, and a stat needs no open.
      const code = existsSync(file) ? await readExitCode(file) : undefined;
      if (code !== undefined) return code;
      if (!(await alive())) return (await readExitCode(file)) ?? LOST_EXIT_CODE;
      if (signal?.aborted) throw new BerthError('Unavailable', 'wait aborted');
      if (dirty) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, watcher ? LIVENESS_POLL_MS + Math.random() * LIVENESS_POLL_MS : 1000);
        function done(): void {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        }
        wake = done;
        signal?.addEventListener('abort', done);
      });
    }
  } finally {
    watcher?.close();
  }
}
