/**
 * examples/lnmp end to end, as the README runs it: a base image from Debian's archive
 * (debootstrap, kept in a cache between runs), nginx, php-fpm and MariaDB images built by
 * berth, the tutorial's three `docker run` lines and then docker-compose on the same
 * database. Each page fetch writes a visit through php-fpm (by name php:9000) into the
 * database (by name mysql) and reads the count back: 1 and 2 from the docker run
 * deployment, 3 from the compose one (the database survived on its -v bind).
 * Slow (the first run downloads about 120 MB); skipped, saying why, where the archive
 * cannot be reached and nothing is cached.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO, sh, World } from '../lib/world.js';

const CACHE = process.env['LNMP_CACHE'] ?? '/var/cache/berth/lnmp';

async function unavailable(): Promise<string | undefined> {
  for (const tool of ['debootstrap', 'docker-compose', 'curl']) if ((await sh('sh', ['-c', `command -v ${tool}`])).code !== 0) return `${tool} is not installed`;
  if (fs.existsSync(path.join(CACHE, 'base-bookworm.tar'))) return undefined;
  const archive = await sh('curl', ['-sSfI', '-m', '10', 'http://deb.debian.org/debian/dists/bookworm/Release']);
  return archive.code === 0 ? undefined : `the Debian archive cannot be reached (${archive.stderr.trim()}) and no base image is cached in ${CACHE}`;
}

const why = await unavailable();

describe('examples/lnmp: the tutorial’s LNMP deployment on real images', { skip: why ?? false }, () => {
  let w: World;
  before(async () => {
    w = await World.create();
  });
  after(async () => w?.dispose());

  it('serves a PHP page that writes to and reads from MariaDB, with docker run and then docker-compose', { timeout: 900_000 }, async () => {
    const env = { ...process.env, DOCKER_HOST: `unix://${w.sock}`, LNMP_NETNS: w.ns, LNMP_DATA: path.join(w.dir, 'lnmp'), LNMP_CACHE: CACHE };
    const r = await sh(path.join(REPO, 'examples/lnmp/deploy.sh'), [], { env, timeoutMs: 880_000 });
    const out = r.stdout + r.stderr;
    assert.equal(r.code, 0, out.slice(-4000));
    for (const step of ['mysql', 'php', 'nginx']) assert.match(out, new RegExp(`Successfully tagged berth-lnmp/${step}:latest`), out.slice(-4000));
    const pages = [...out.matchAll(/visits: (\d+)\n\s*php-fpm on: (\w+)\n\s*database: mysql via TCP\/IP ([\d.]+-MariaDB)/g)];
    assert.deepEqual(pages.map((m) => m[1]), ['1', '2', '3'], out.slice(-4000));
    assert.match(out, /\|\s+1 \| [0-9a-f]{12} \|/, 'the rows as the database holds them');
    // Nothing of the deployment is left: no container, no network but the predefined ones.
    assert.equal((await w.dockerOk('ps', '-aq')).trim(), '');
    assert.deepEqual((await w.dockerOk('network', 'ls', '--format', '{{.Name}}')).trim().split('\n').sort(), ['bridge', 'host', 'none']);
  });
});
