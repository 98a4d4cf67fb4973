/**
 * The attack surface: who may talk to the daemon, and what a container may do to the
 * host, to other containers and through DNS.
 *
 * - The API is a root-owned unix socket, mode 0660; berthd listens on no TCP or UDP
 *   port of its own (the sockets it holds for published ports are expected, and told
 *   apart by their port numbers).
 * - A container (default capabilities) cannot add links, routes or addresses, nor touch
 *   nftables; with --cap-add NET_ADMIN it changes its own namespace only: the host's
 *   links, routes and ruleset and another container's namespace stay as they were.
 * - A container sees only its own processes and interfaces.
 * - DNS never reveals a container (name, alias, short id, reverse lookup) to a container
 *   that shares no network with it; a container on two networks is answered with its
 *   address on the asker's network only.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { World } from '../lib/world.js';

/** The host's nft, with the host's libraries, bound into a busybox container read-only. */
const NFT_BINDS = ['-v', '/usr/sbin/nft:/sbin/nft:ro', '-v', '/usr/lib:/lib:ro', '-v', '/usr/lib64:/lib64:ro'];

interface HostState {
  links: string;
  routes: string;
  ruleset: string;
}

describe('security', () => {
  let w: World;
  let pid: number;
  before(async () => {
    w = await World.create();
    await w.dockerOk('pull', 'busybox');
    // One at a time: parallel starts sometimes stall 60 s in the runtime (see 80-fuzz).
    await w.dockerOk('run', '-d', '--name', 'pub', '-p', '8080:80', '-p', '5353:53/udp', '-p', '127.0.0.1:8081:80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www');
    await w.dockerOk('run', '-d', '--name', 'victim', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www');
    pid = Number(fs.readFileSync(path.join(w.execRoot, 'berthd.pid'), 'utf8').trim());
  });
  after(async () => {
    await w.dispose();
  });

  async function hostState(): Promise<HostState> {
    const links = (await w.ip('-o', 'link', 'show')).split('\n').map((l) => l.split(': ')[1] ?? '').sort().join(' ');
    const routes = (await w.ip('route', 'show', 'table', 'all')).split('\n').filter((l) => !/fe80::|linkdown/.test(l)).sort().join('\n');
    const ruleset = (await w.inNs(w.ns, ['nft', 'list', 'ruleset'])).stdout.replace(/counter packets \d+ bytes \d+/g, 'counter');
    return { links, routes, ruleset };
  }

  it('serves the API on a root-owned unix socket, mode 0660', () => {
    const st = fs.statSync(w.sock);
    assert.ok(st.isSocket());
    assert.equal((st.mode & 0o777).toString(8), '660');
    assert.equal(st.uid, 0);
    assert.equal(st.gid, 0);
  });

  it('listens on no TCP or UDP port of its own: only the published ports it holds', async () => {
    const mine = async (flags: string): Promise<string[]> => {
      const out = (await w.inNs(w.ns, ['ss', flags, '-H'])).stdout.split('\n').filter((l) => l.includes(`pid=${pid},`));
      return out.map((l) => l.trim().split(/\s+/)[3] ?? '').sort();
    };
    const tcp = await mine('-ltnp');
    const udp = await mine('-lunp');
    console.log(`# berthd (pid ${pid}) TCP listeners: ${tcp.join(' ') || 'none'}; UDP: ${udp.join(' ') || 'none'}`);
    const published = (addr: string, ports: string[]): boolean => ports.some((p) => addr.endsWith(`:${p}`));
    assert.deepEqual(tcp.filter((a) => !published(a, ['8080', '8081'])), [], 'a TCP port that is not a published one');
    assert.deepEqual(udp.filter((a) => !published(a, ['5353'])), [], 'a UDP port that is not a published one');
    assert.ok(tcp.some((a) => a.endsWith(':8081') && a.startsWith('127.0.0.1')), `127.0.0.1:8081 held: ${tcp.join(' ')}`);
    const unix = (await w.inNs(w.ns, ['ss', '-lxp', '-H'])).stdout.split('\n').filter((l) => l.includes(`pid=${pid},`));
    const paths = unix.map((l) => l.trim().split(/\s+/)[4] ?? '');
    console.log(`# berthd unix listeners: ${paths.join(' ')}`);
    assert.ok(paths.includes(w.sock), paths.join(' '));
  });

  it('denies a container with default capabilities any change to the network', async () => {
    const tries: [string, string[]][] = [
      ['add a link', ['ip', 'link', 'add', 'x', 'type', 'dummy']],
      ['add a veth pair', ['ip', 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1']],
      ['add a route', ['ip', 'route', 'add', '10.99.0.0/24', 'dev', 'eth0']],
      ['add an address', ['ip', 'addr', 'add', '10.99.0.5/24', 'dev', 'eth0']],
      ['take its link down', ['ip', 'link', 'set', 'eth0', 'down']],
      ['change its MAC', ['ip', 'link', 'set', 'eth0', 'address', '02:00:00:00:00:99']],
    ];
    const before = await hostState();
    for (const [what, cmd] of tries) {
      const r = await w.docker('run', '--rm', 'busybox', ...cmd);
      assert.notEqual(r.code, 0, `${what} succeeded`);
      assert.match(r.stderr, /Operation not permitted/, `${what}: ${r.stderr}`);
    }
    const nft = await w.docker('run', '--rm', ...NFT_BINDS, 'busybox', 'nft', 'add', 'table', 'inet', 'evil');
    assert.notEqual(nft.code, 0, 'nft add table succeeded');
    assert.match(nft.stderr, /Operation not permitted/, nft.stderr);
    assert.deepEqual(await hostState(), before);
  });

  it('lets a NET_ADMIN container change only its own namespace', async () => {
    const before = await hostState();
    const victimLinks = await w.dockerOk('exec', 'victim', 'ip', '-o', 'link');
    const victimRoutes = await w.dockerOk('exec', 'victim', 'ip', 'route');
    // (This kernel has no dummy links: a bridge stands in.)
    const script = [
      'ip link add evil0 type bridge',
      'ip link set evil0 up',
      'ip link add evil1 link eth0 type macvlan',
      'ip addr add 10.66.0.1/24 dev evil0',
      'ip route add 10.67.0.0/24 via 10.66.0.2',
      'ip route replace default via 10.66.0.2',
      'nft add table inet berth',
      'nft flush ruleset',
      'nft add table inet evil',
      'nft add chain inet evil c { type filter hook forward priority -500 \\; policy drop \\; }',
      'ip -o link',
      'ip route',
      'nft list tables',
    ].join(' && ');
    const out = await w.dockerOk('run', '--rm', '--cap-add', 'NET_ADMIN', ...NFT_BINDS, 'busybox', 'sh', '-c', script);
    assert.match(out, /evil0/);
    assert.match(out, /default via 10\.66\.0\.2/);
    assert.match(out, /table inet evil/);
    assert.deepEqual(await hostState(), before, "the host's links, routes and ruleset are untouched");
    assert.equal(await w.dockerOk('exec', 'victim', 'ip', '-o', 'link'), victimLinks);
    assert.equal(await w.dockerOk('exec', 'victim', 'ip', 'route'), victimRoutes);
    assert.match((await w.inNs(w.ns, ['curl', '-sf', '-m', '3', 'http://127.0.0.1:8080/'])).stdout, /berth/, 'published ports still work');
  });

  it('shows a container only its own processes and interfaces', async () => {
    const ps = await w.dockerOk('exec', 'victim', 'ps', '-o', 'pid,comm');
    assert.doesNotMatch(ps, /conmon|node|berthd|runc/, ps);
    assert.deepEqual(ps.split('\n').slice(1).map((l) => l.trim().split(/\s+/)[1]).filter((c) => c !== 'ps').sort(), ['httpd']);
    const links = (await w.dockerOk('exec', 'victim', 'ip', '-o', 'link')).split('\n').map((l) => l.split(': ')[1]?.split('@')[0]);
    assert.deepEqual(links.sort(), ['eth0', 'lo']);
  });

  describe('DNS scoped to shared networks', () => {
    const ip: Record<string, string> = {};
    let yId = '';
    before(async () => {
      await w.dockerOk('network', 'create', '--subnet', '10.71.0.0/24', 'dn1');
      await w.dockerOk('network', 'create', '--subnet', '10.72.0.0/24', 'dn2');
      await w.dockerOk('run', '-d', '--name', 'x1', '--network', 'dn1', 'busybox', 'sleep', '1000');
      yId = await w.dockerOk('run', '-d', '--name', 'y1', '--network', 'dn2', '--network-alias', 'secret', 'busybox', 'sleep', '1000');
      await w.dockerOk('run', '-d', '--name', 'z1', '--network', 'dn1', 'busybox', 'sleep', '1000');
      await w.dockerOk('network', 'connect', '--alias', 'zonly2', 'dn2', 'z1');
      ip.y1 = await w.dockerOk('inspect', '-f', '{{(index .NetworkSettings.Networks "dn2").IPAddress}}', 'y1');
      ip.z1dn1 = await w.dockerOk('inspect', '-f', '{{(index .NetworkSettings.Networks "dn1").IPAddress}}', 'z1');
      ip.z1dn2 = await w.dockerOk('inspect', '-f', '{{(index .NetworkSettings.Networks "dn2").IPAddress}}', 'z1');
    });

    const lookup = async (from: string, name: string): Promise<string> => {
      const r = await w.docker('exec', from, 'timeout', '6', 'nslookup', name, '127.0.0.11');
      return `${r.stdout}\n${r.stderr}`;
    };

    const hidden = (): string[] => ['y1', 'secret', yId.slice(0, 12), 'y1.dn2'];

    it('resolves those names for a container that shares the network (the control)', async () => {
      const outs = await Promise.all(hidden().map((name) => lookup('z1', name)));
      const missing = hidden().filter((_, k) => !outs[k]!.includes(ip.y1!));
      assert.deepEqual(missing, [], `z1 (on dn2) could not resolve: ${missing.join(', ')}`);
      assert.ok((await lookup('z1', ip.y1!)).includes('y1'), 'z1 reverse-resolves y1');
    });

    it('does not reveal a container, its alias or its short id to a container on another network', async () => {
      const names = [...hidden(), 'zonly2'];
      const outs = await Promise.all(names.map((name) => lookup('x1', name)));
      names.forEach((name, k) => {
        assert.ok(!outs[k]!.includes(ip.y1!), `x1 resolved ${name} to y1's address:\n${outs[k]}`);
        assert.ok(!outs[k]!.includes(ip.z1dn2!), `x1 resolved ${name} to z1's dn2 address:\n${outs[k]}`);
      });
    });

    it('answers a container on two networks with its address on the asker\'s network only', async () => {
      const fromX = await lookup('x1', 'z1');
      assert.ok(fromX.includes(ip.z1dn1!), fromX);
      assert.ok(!fromX.includes(ip.z1dn2!), fromX);
      const fromY = await lookup('y1', 'z1');
      assert.ok(fromY.includes(ip.z1dn2!), fromY);
      assert.ok(!fromY.includes(ip.z1dn1!), fromY);
    });

    it('does not reverse-resolve a container on another network', async () => {
      const out = await lookup('x1', ip.y1!);
      assert.doesNotMatch(out, /y1/, out);
    });

    it('gives the default bridge no view of user networks', async () => {
      const out = await lookup('victim', 'y1');
      assert.ok(!out.includes(ip.y1!), out);
    });
  });
});
