/** Following the cluster store after its watch was lost: list again until it answers. */
import { messageOf } from '../errors.js';

/**
 * Run `relist` until it succeeds or `closed()` says to stop. A store out of reach for a
 * while (its members restarting) is waited for however long it takes, the pause growing
 * from 0.5 s to 5 s; each failure is logged as `what: cause; retrying`.
 */
export async function relistUntilDone(what: string, relist: () => Promise<void>, closed: () => boolean, log: (m: string) => void): Promise<void> {
  for (let attempt = 0; !closed(); attempt++) {
    try {
      await relist();
      return;
    } catch (e: unknown) {
      log(`${what}: ${messageOf(e)}; retrying`);
      await new Promise((r) => setTimeout(r, Math.min(500 * 2 ** attempt, 5000)));
    }
  }
}
