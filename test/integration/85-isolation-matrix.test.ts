/**
 * Who reaches whom: containers on the default bridge, two user bridges, an internal
 * network, an ICC-off network, in host mode and in none mode, each asking every other
 * over HTTP (busybox httpd servers, wget clients through `docker exec`), plus the lan
 * asking the host's published, 127.0.0.1-bound and unpublished ports. The clients run
 * under `timeout 3`: `wget -T` of Debian's busybox-static 1.35 segfaults (exit 139)
 * whatever the target, which would make every "not reachable" look proven.
 *
 * Expected, as Docker behaves (Y reachable, - not):
 *
 *   from \ to   d2  a2  b2  i2  q2  host@gw  host@lan  pub@lan
 *   d1 bridge   Y   -   -   -   -   Y        Y         Y
 *   a1 user A   -   Y   -   -   -   Y        Y         Y
 *   b1 user B   -   -   Y   -   -   Y        Y         Y
 *   i1 internal -   -   -   Y   -   Y        -         -
 *   q1 icc off  -   -   -   -   -   Y        Y         Y
 *   h1 host     Y   Y   Y   Y   Y   Y        Y         Y
 *   n1 none     -   -   -   -   -   -        -         -
 *
 *   d2 a2 b2 i2 q2   the second container of each network, at its address there
 *   host@gw          the host-mode server (h1, port 8088) at the gateway of the
 *                    asker's network (127.0.0.1 for h1; n1 has none): the host's INPUT is
 *                    not filtered by Docker, not even for internal or ICC-off networks
 *   host@lan         the same server at the host's lan address 192.0.2.1: an internal
 *                    network has no route there
 *   pub@lan          d2's published port 192.0.2.1:8080 (DNAT on the host)
 *
 * From the lan (192.0.2.2, a route to 172.17.0.0/16 via the host added):
 *
 *   192.0.2.1:8080  d2 published on 0.0.0.0           Y
 *   192.0.2.1:8081  d2 published on 127.0.0.1         -   (but Y from the host itself)
 *   192.0.2.1:8082  nothing published                 -
 *   d2's address:80 routed, not published             -
 *   192.0.2.1:8095  q2 published (ICC off network)    Y
 *   192.0.2.1:8096  i2 "published" on an internal net -   (Docker maps no ports there)
 *   192.0.2.1:8088  the host-mode server              Y
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { must, World } from '../lib/world.js';

type Cell = 'Y' | '-';

const SOURCES = ['d1', 'a1', 'b1', 'i1', 'q1', 'h1', 'n1'] as const;
const TARGETS = ['d2', 'a2', 'b2', 'i2', 'q2', 'host@gw', 'host@lan', 'pub@lan'] as const;
type Source = (typeof SOURCES)[number];
type Target = (typeof TARGETS)[number];

const EXPECTED: Record<Source, string> = {
  d1: 'Y - - - - Y Y Y',
  a1: '- Y - - - Y Y Y',
  b1: '- - Y - - Y Y Y',
  i1: '- - - Y - Y - -',
  q1: '- - - - - Y Y Y',
  h1: 'Y Y Y Y Y Y Y Y',
  n1: '- - - - - - - -',
};

/** The network of each container (h1 and n1 are modes). */
const PLACES: Record<string, string> = {
  d1: 'bridge', d2: 'bridge', a1: 'iso-a', a2: 'iso-a', b1: 'iso-b', b2: 'iso-b',
  i1: 'iso-int', i2: 'iso-int', q1: 'iso-noicc', q2: 'iso-noicc', h1: 'host', n1: 'none',
};

const PUBLISH: Record<string, string[]> = {
  d2: ['-p', '8080:80', '-p', '127.0.0.1:8081:80'],
  q2: ['-p', '8095:80'],
  i2: ['-p', '8096:80'],
};

describe('isolation matrix', () => {
  let w: World;
  let lan: string;
  const ip: Record<string, string> = {};
  const gateway: Record<string, string> = {};
  before(async () => {
    w = await World.create();
    lan = await w.addLan();
    await w.dockerOk('pull', 'busybox');
    await w.dockerOk('network', 'create', 'iso-a');
    await w.dockerOk('network', 'create', 'iso-b');
    await w.dockerOk('network', 'create', '--internal', 'iso-int');
    await w.dockerOk('network', 'create', '-o', 'com.docker.network.bridge.enable_icc=false', 'iso-noicc');
    // One at a time: parallel starts sometimes stall 60 s in the runtime (see 80-fuzz).
    for (const [name, net] of Object.entries(PLACES)) {
      const port = name === 'h1' ? '8088' : '80';
      await w.dockerOk('run', '-d', '--name', name, '--network', net, ...(PUBLISH[name] ?? []), 'busybox', 'httpd', '-f', '-p', port, '-h', '/www');
    }
    for (const [name, net] of Object.entries(PLACES)) {
      if (net === 'host' || net === 'none') continue;
      ip[name] = await w.dockerOk('inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, name);
      gateway[name] = await w.dockerOk('inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").Gateway}}`, name);
    }
  });
  after(async () => {
    await w.dispose();
  });

  function url(src: Source, t: Target): string | undefined {
    switch (t) {
      case 'host@gw':
        if (src === 'h1') return 'http://127.0.0.1:8088/';
        return gateway[src] ? `http://${gateway[src]}:8088/` : undefined;
      case 'host@lan':
        return 'http://192.0.2.1:8088/';
      case 'pub@lan':
        return 'http://192.0.2.1:8080/';
      default:
        return `http://${ip[t]}/`;
    }
  }

  /** One exec per source; its probes run in parallel inside the container. */
  async function row(src: Source): Promise<Cell[]> {
    const probes = TARGETS.map((t, k) => {
      const u = url(src, t);
      return u ? `(if timeout 3 wget -qO- ${u} 2>/dev/null | grep -q berth; then echo ${k}=Y; else echo ${k}=-; fi) &` : `echo ${k}=-;`;
    });
    const out = await w.dockerOk('exec', src, 'sh', '-c', `${probes.join(' ')} wait`);
    const cells = new Map(out.split('\n').map((l) => l.split('=') as [string, Cell]));
    return TARGETS.map((_, k) => cells.get(String(k)) ?? '-');
  }

  it('every container reaches exactly what Docker lets it reach', async () => {
    const observed = await Promise.all(SOURCES.map(row));
    const lines = [`from \\ to  ${TARGETS.map((t) => t.padEnd(8)).join(' ')}`];
    const wrong: string[] = [];
    SOURCES.forEach((s, i) => {
      const got = observed[i]!;
      const want = EXPECTED[s].split(' ');
      lines.push(`${s.padEnd(10)} ${got.map((c, k) => (c === want[k] ? c : `${c}(!)`).padEnd(8)).join(' ')}`);
      got.forEach((c, k) => {
        if (c !== want[k]) wrong.push(`${s} -> ${TARGETS[k]} (${url(s, TARGETS[k]!) ?? 'no address'}): got ${c}, Docker ${want[k]}`);
      });
    });
    console.log(`# observed (! = differs from Docker):\n${lines.map((l) => `#   ${l}`).join('\n')}`);
    assert.deepEqual(wrong, []);
  });

  it('the lan reaches published ports only, and never a 127.0.0.1 binding or a container address', async () => {
    await must('ip', ['-n', lan, 'route', 'add', '172.16.0.0/12', 'via', '192.0.2.1']);
    const fromLan = async (u: string): Promise<Cell> => ((await w.inNs(lan, ['curl', '-sf', '-m', '3', u])).stdout.includes('berth') ? 'Y' : '-');
    const cases: [string, string, Cell][] = [
      ['d2 published on 0.0.0.0', 'http://192.0.2.1:8080/', 'Y'],
      ['d2 published on 127.0.0.1', 'http://192.0.2.1:8081/', '-'],
      ['nothing published', 'http://192.0.2.1:8082/', '-'],
      ['d2 address, routed, unpublished', `http://${ip.d2}/`, '-'],
      ['a2 address, routed, unpublished', `http://${ip.a2}/`, '-'],
      ['q2 published (ICC off)', 'http://192.0.2.1:8095/', 'Y'],
      ['i2 published on an internal network', 'http://192.0.2.1:8096/', '-'],
      ['host-mode server', 'http://192.0.2.1:8088/', 'Y'],
    ];
    const got = await Promise.all(cases.map(([, u]) => fromLan(u)));
    console.log(`# from the lan:\n${cases.map(([what, u, want], k) => `#   ${got[k]}${got[k] === want ? '' : '(!)'}  ${u.padEnd(28)} ${what}`).join('\n')}`);
    assert.deepEqual(cases.map(([what, , want], k) => `${what}: ${got[k]}`), cases.map(([what, , want]) => `${what}: ${want}`));
  });

  it('the host itself reaches 127.0.0.1-bound and 0.0.0.0 published ports', async () => {
    for (const u of ['http://127.0.0.1:8081/', 'http://127.0.0.1:8080/', 'http://192.0.2.1:8080/']) {
      assert.match((await w.inNs(w.ns, ['curl', '-sf', '-m', '3', u])).stdout, /berth/, u);
    }
  });
});
