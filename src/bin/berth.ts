/** The `berth` command: everything happens in src/cli/main.ts. */
import { main } from '../cli/main.js';

// `berth network ls | head -1`: a closed pipe ends the output, as with any Unix tool.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await main(process.argv.slice(2), process.env, {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
});
