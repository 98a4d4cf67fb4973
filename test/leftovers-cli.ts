/**
 * What test runs left behind (scripts/test.sh):
 *   sweep   remove what runs whose runner is gone left (a `make test` killed half-way)
 *   check   remove what this run (BERTH_TEST_RUN, TMPDIR) left; exit 1 when it left anything
 *   world DIR [DAEMON_ID]
 *           remove what one stopped world's daemon left (processes naming DIR, its cgroups,
 *           mounts under DIR) and print one line per kind (the compat suite's worlds)
 */
import { deadRuns, killProcessesMentioning, removeDaemonCgroups, removeRunLeftovers, unmountUnder } from './lib/leftovers.js';

async function main(): Promise<number> {
  const [cmd] = process.argv.slice(2);
  if (cmd === 'sweep') {
    for (const run of deadRuns()) {
      const found = await removeRunLeftovers(run);
      if (found.length > 0) console.error(`removed what test run ${run.tag} (no longer running) left: ${found.join('; ')}`);
    }
    return 0;
  }
  if (cmd === 'world') {
    const [dir, daemonId] = process.argv.slice(3);
    if (!dir) return 2;
    for (const line of [...killProcessesMentioning(dir), ...removeDaemonCgroups(daemonId), ...(await unmountUnder(dir))]) console.log(line);
    return 0;
  }
  const tag = process.env.BERTH_TEST_RUN;
  const dir = process.env.TMPDIR;
  if (cmd !== 'check' || !tag || !dir) {
    console.error('usage: BERTH_TEST_RUN=t<pid> TMPDIR=/tmp/berth-run-<pid> node dist/test/leftovers-cli.js check | sweep | world DIR [DAEMON_ID]');
    return 2;
  }
  const found = await removeRunLeftovers({ tag, dir });
  if (found.length === 0) return 0;
  console.error(`the tests left these behind (now removed):\n  ${found.join('\n  ')}`);
  return 1;
}

process.exitCode = await main();
