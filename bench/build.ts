/**
 * docker build (the classic builder) of a 10-step Dockerfile from busybox — ENV,
 * WORKDIR, two COPYs, three RUNs, LABEL, CMD — with the stock docker CLI: a cold cache
 * (`--no-cache`: every RUN in a container, every step committed), a warm one (every
 * step from the cache), and one source file changed (cache up to the COPY, the rest
 * rebuilt). Wall-clock ms of the whole CLI command, medians (min–max, n).
 *
 *   node dist/bench/build.js [runs, default 7]
 *
 * Needs root, iproute2, nftables, runc, conmon and the docker CLI. berthd runs in a
 * namespace of its own; everything is removed at the end.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpdir } from 'node:os';
import { World } from '../test/lib/world.js';
import { cell, Samples, table, timed } from './lib/stats.js';

const RUNS = Number(process.argv[2] ?? 7);

const DOCKERFILE = `FROM busybox
ENV APP=/opt/app MODE=bench
WORKDIR /opt/app
COPY lib/ ./lib/
RUN mkdir -p data && for i in 1 2 3 4 5; do echo "row $i" >> data/rows; done
COPY main.sh ./
RUN chmod +x main.sh && ./main.sh > out.txt
RUN cat out.txt data/rows | wc -l > count
LABEL org.example.bench=build
CMD ["./main.sh"]
`;

function makeContext(): string {
  const dir = fs.mkdtempSync(path.join(tmpdir(), 'berth-buildbench-'));
  fs.writeFileSync(path.join(dir, 'Dockerfile'), DOCKERFILE);
  fs.mkdirSync(path.join(dir, 'lib'));
  for (let i = 0; i < 50; i++) fs.writeFileSync(path.join(dir, 'lib', `mod${i}.sh`), `# module ${i}\n${'x'.repeat(2000)}\n`);
  fs.writeFileSync(path.join(dir, 'main.sh'), '#!/bin/sh\necho main 0\n');
  return dir;
}

async function build(w: World, dir: string, ...flags: string[]): Promise<number> {
  const t0 = process.hrtime.bigint();
  const r = await w.docker('build', ...flags, '-t', 'bench:build', dir);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.code !== 0) throw new Error(`docker build failed: ${r.stderr}`);
  return ms;
}

async function main(): Promise<void> {
  const dir = makeContext();
  const w = await World.create({ detached: true });
  try {
    await w.dockerOk('pull', 'busybox');
    const cold = new Samples();
    const warm = new Samples();
    const changed = new Samples();
    await build(w, dir); // warm-up: the image and the daemon's code paths
    for (let i = 0; i < RUNS; i++) {
      process.stderr.write(`run ${i + 1}/${RUNS}\n`);
      await timed(cold, true, async () => build(w, dir, '--no-cache'));
      await timed(warm, true, async () => build(w, dir));
      fs.writeFileSync(path.join(dir, 'main.sh'), `#!/bin/sh\necho main ${i + 1}\n`);
      await timed(changed, true, async () => build(w, dir));
    }
    const out = [
      `docker build of a 10-step Dockerfile (3 RUN, 2 COPY of 51 files / 100 kB), stock docker CLI, berth only (no Docker daemon here); ms, median (min–max, n)`,
      '',
      table(
        ['cache', 'docker build'],
        [
          ['cold (--no-cache: 3 RUN containers, 9 commits)', cell(cold.summary())],
          ['warm (every step cached)', cell(warm.summary())],
          ['one file changed (cached to step 5, 5 steps rebuilt)', cell(changed.summary())],
        ],
      ),
    ];
    process.stdout.write(`${out.join('\n')}\n`);
    for (const s of [cold, warm, changed]) for (const e of s.errors) process.stderr.write(`failed: ${e}\n`);
  } finally {
    await w.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
