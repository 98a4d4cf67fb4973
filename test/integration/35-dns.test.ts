/** Service discovery: the embedded resolver at 127.0.0.11 on user networks, legacy links on the default bridge. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { World } from '../lib/world.js';
import { FakeUpstream } from '../lib/fake-dns.js';

describe('embedded DNS', () => {
  let w: World;
  let lan: string;
  let upstream: FakeUpstream | undefined;
  before(async () => {
    w = await World.create();
    lan = await w.addLan();
    // An upstream resolver in the lan answering one name.
    upstream = await FakeUpstream.start(`/run/netns/${lan}`, '192.0.2.2', { 'outside.test': '192.0.2.77' });
    await w.dockerOk('pull', 'busybox');
    await w.dockerOk('network', 'create', 'front');
    await w.dockerOk('network', 'create', 'back');
    await w.dockerOk('run', '-d', '--name', 'db', '--hostname', 'dbhost', '--network', 'back', '--network-alias', 'store', 'busybox', 'sleep', '10000');
    await w.dockerOk('run', '-d', '--name', 'app', '--network', 'back', 'busybox', 'sleep', '10000');
    await w.dockerOk('network', 'connect', '--alias', 'api', 'front', 'app');
    await w.dockerOk('run', '-d', '--name', 'web', '--network', 'front', 'busybox', 'sleep', '10000');
  });
  after(async () => {
    upstream?.close();
    await w.dispose();
  });

  const ipOf = (c: string, net: string) => w.dockerOk('inspect', '-f', `{{.NetworkSettings.Networks.${net}.IPAddress}}`, c);
  const lookup = (c: string, name: string) => w.docker('exec', c, 'nslookup', name);

  it('points user-network containers at 127.0.0.11, and the default bridge at the upstreams', async () => {
    const conf = await w.dockerOk('exec', 'web', 'cat', '/etc/resolv.conf');
    assert.match(conf, /^nameserver 127\.0\.0\.11$/m);
    assert.match(conf, /ndots:0/);
    assert.doesNotMatch(await w.dockerOk('run', '--rm', 'busybox', 'cat', '/etc/resolv.conf'), /127\.0\.0\.11/);
  });

  it('resolves names, short IDs, hostnames and aliases on shared networks', async () => {
    const dbIp = await ipOf('db', 'back');
    const id = (await w.dockerOk('inspect', '-f', '{{.Id}}', 'db')).slice(0, 12);
    for (const name of ['db', id, 'dbhost', 'store', 'DB']) {
      const r = await lookup('app', name);
      assert.equal(r.code, 0, `${name}: ${r.stdout}${r.stderr}`);
      assert.ok(r.stdout.includes(dbIp), `${name} -> ${r.stdout}`);
    }
    assert.match(await w.dockerOk('exec', 'app', 'ping', '-c', '1', '-W', '2', 'db'), /1 packets received/);
    assert.match(await w.dockerOk('run', '--rm', '--network', 'back', 'busybox', 'nslookup', 'db'), new RegExp(dbIp.replace(/\./g, '\\.')));
  });

  it('scopes names to shared networks; a container on two networks sees both', async () => {
    const r = await lookup('web', 'db');
    assert.ok(!r.stdout.includes(await ipOf('db', 'back')), 'db is not visible from front');
    assert.equal((await lookup('app', 'web')).code, 0);
    assert.equal((await lookup('app', 'db')).code, 0);
    assert.ok((await lookup('web', 'api')).stdout.includes(await ipOf('app', 'front')));
  });

  it('answers PTR for container addresses', async () => {
    const r = await lookup('app', await ipOf('db', 'back'));
    assert.match(r.stdout, /db\.back/);
  });

  it('returns every container behind one alias', async () => {
    await w.dockerOk('run', '-d', '--name', 'rr1', '--network', 'back', '--network-alias', 'pool', 'busybox', 'sleep', '10000');
    await w.dockerOk('run', '-d', '--name', 'rr2', '--network', 'back', '--network-alias', 'pool', 'busybox', 'sleep', '10000');
    const out = (await lookup('app', 'pool')).stdout;
    assert.ok(out.includes(await ipOf('rr1', 'back')) && out.includes(await ipOf('rr2', 'back')), out);
    await w.dockerOk('rm', '-f', 'rr2');
    assert.ok(!(await lookup('app', 'pool')).stdout.includes('rr2'));
    await w.dockerOk('rm', '-f', 'rr1');
  });

  it('forwards other names upstream from the container, and answers SERVFAIL for a dead upstream', async () => {
    const out = await w.dockerOk('run', '--rm', '--network', 'front', '--dns', '192.0.2.2', 'busybox', 'nslookup', 'outside.test');
    assert.match(out, /192\.0\.2\.77/);
    assert.ok(upstream!.seen.some((q) => q.name === 'outside.test' && q.from === '192.0.2.1'), 'asked from the host address (masqueraded)');
    const t0 = Date.now();
    const dead = await w.docker('run', '--rm', '--network', 'front', '--dns', '192.0.2.99', 'busybox', 'nslookup', 'outside.test');
    assert.notEqual(dead.code, 0);
    assert.match(dead.stdout + dead.stderr, /SERVFAIL|can't resolve/i);
    assert.ok(Date.now() - t0 < 15_000);
  });

  it('removes records when a container stops or disconnects', async () => {
    await w.dockerOk('run', '-d', '--name', 'brief', '--network', 'front', 'busybox', 'sleep', '10000');
    const ip = await ipOf('brief', 'front');
    assert.ok((await lookup('web', 'brief')).stdout.includes(ip));
    await w.dockerOk('stop', '-t', '0', 'brief');
    assert.ok(!(await lookup('web', 'brief')).stdout.includes(ip));
    const apiIp = await ipOf('app', 'front');
    await w.dockerOk('network', 'disconnect', 'front', 'app');
    assert.ok(!(await lookup('web', 'api')).stdout.includes(apiIp), 'api gone after disconnect');
    await w.dockerOk('network', 'connect', '--alias', 'api', 'front', 'app');
    await w.dockerOk('rm', 'brief');
  });

  it('network connect edits /etc/hosts and, with the first user network, resolv.conf in place', async () => {
    await w.dockerOk('run', '-d', '--name', 'u1', '--network', 'back', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www');
    await w.dockerOk('run', '-d', '--name', 'b1', '--dns', '192.0.2.2', 'busybox', 'sleep', '10000');
    const inodes = () => w.dockerOk('exec', 'b1', 'stat', '-c', '%i', '/etc/hosts', '/etc/resolv.conf');
    const before = await inodes();
    assert.match(await w.dockerOk('exec', 'b1', 'cat', '/etc/resolv.conf'), /^nameserver 192\.0\.2\.2$/m);
    await w.dockerOk('network', 'connect', 'back', 'b1');
    const conf = await w.dockerOk('exec', 'b1', 'cat', '/etc/resolv.conf');
    assert.deepEqual(conf.split('\n').filter((l) => l.startsWith('nameserver')), ['nameserver 127.0.0.11']);
    assert.match(conf, /ndots:0/);
    assert.match(await w.dockerOk('exec', 'b1', 'wget', '-qO-', 'http://u1/'), /berth/);
    assert.match(await w.dockerOk('exec', 'b1', 'nslookup', 'outside.test'), /192\.0\.2\.77/, 'the old nameserver is the resolver\'s upstream');
    const b1Back = await ipOf('b1', 'back');
    assert.match(await w.dockerOk('exec', 'b1', 'cat', '/etc/hosts'), new RegExp(`^${b1Back.replace(/\./g, '\\.')}\t[0-9a-f]{12}$`, 'm'));
    assert.equal(await inodes(), before, 'edited in place: the bind mounts still show them');

    await w.dockerOk('network', 'connect', 'front', 'u1');
    const u1Front = await ipOf('u1', 'front');
    const hosts = await w.dockerOk('exec', 'u1', 'cat', '/etc/hosts');
    assert.ok(hosts.includes(`${await ipOf('u1', 'back')}\t`) && hosts.includes(`${u1Front}\t`), hosts);
    await w.dockerOk('network', 'disconnect', 'front', 'u1');
    assert.ok(!(await w.dockerOk('exec', 'u1', 'cat', '/etc/hosts')).includes(`${u1Front}\t`));

    await w.dockerOk('network', 'disconnect', 'back', 'b1');
    assert.ok(!(await w.dockerOk('exec', 'b1', 'cat', '/etc/hosts')).includes(`${b1Back}\t`));
    assert.match(await w.dockerOk('exec', 'b1', 'cat', '/etc/resolv.conf'), /^nameserver 127\.0\.0\.11$/m, 'the resolver stays');
    assert.match(await w.dockerOk('exec', 'b1', 'nslookup', 'outside.test'), /192\.0\.2\.77/);
    await w.dockerOk('rm', '-f', 'u1', 'b1');
  });

  it('--network container: shares the target\'s /etc files and hostname, so names resolve', async () => {
    const appHost = await w.dockerOk('inspect', '-f', '{{.Config.Hostname}}', 'app');
    const out = await w.dockerOk('run', '--rm', '--network', 'container:app', 'busybox', 'sh', '-c', 'hostname; cat /etc/hostname; nslookup db');
    const [hostname, etcHostname] = out.split('\n');
    assert.equal(hostname, appHost);
    assert.equal(etcHostname, appHost);
    assert.ok(out.includes(await ipOf('db', 'back')), out);
    await w.dockerOk('create', '--name', 'side', '--network', 'container:app', 'busybox', 'sleep', '1000');
    const paths = '{{.HostsPath}} {{.ResolvConfPath}} {{.HostnamePath}}';
    await w.dockerOk('start', 'side');
    assert.equal(await w.dockerOk('inspect', '-f', `${paths} {{.Config.Hostname}}`, 'side'), await w.dockerOk('inspect', '-f', `${paths} {{.Config.Hostname}}`, 'app'));
    await w.dockerOk('rm', '-f', 'side');
  });

  it('answers again after a daemon crash', async () => {
    await w.restart('SIGKILL');
    const r = await lookup('app', 'db');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(r.stdout.includes(await ipOf('db', 'back')));
  });

  it('keeps legacy links on the default bridge: /etc/hosts and environment', async () => {
    await w.dockerOk('run', '-d', '--name', 'legacy', '--expose', '6379', '-e', 'SECRET=x', 'busybox', 'sleep', '10000');
    const env = await w.dockerOk('run', '--rm', '--link', 'legacy:cache', 'busybox', 'env');
    assert.match(env, /^CACHE_NAME=\/[a-z_0-9]+\/cache$/m);
    assert.match(env, /^CACHE_PORT_6379_TCP=tcp:\/\/172\.17\.0\.\d+:6379$/m);
    assert.match(env, /^CACHE_ENV_SECRET=x$/m);
    const hosts = await w.dockerOk('run', '--rm', '--link', 'legacy:cache', 'busybox', 'cat', '/etc/hosts');
    assert.match(hosts, /\tcache legacy /);
    const conflict = await w.docker('run', '--rm', '--network', 'host', '--link', 'legacy:cache', 'busybox', 'true');
    assert.notEqual(conflict.code, 0);
    assert.match(conflict.stderr, /conflicting options/);
    // Docker (28 on) checks the targets at start: running, and on the default bridge.
    const dbId = await w.dockerOk('inspect', '-f', '{{.Id}}', 'db');
    const elsewhere = await w.docker('run', '--rm', '--link', 'db:s1', 'busybox', 'true');
    assert.notEqual(elsewhere.code, 0);
    assert.match(elsewhere.stderr, new RegExp(`Error response from daemon: container ${dbId} not attached to default bridge network`));
    await w.dockerOk('create', '--name', 'cold', 'busybox', 'true');
    const stopped = await w.docker('run', '--rm', '--name', 'warm', '--link', 'cold:c', 'busybox', 'true');
    assert.match(stopped.stderr, /Cannot link to a non running container: \/cold AS \/warm\/c/);
    await w.dockerOk('rm', 'cold');
    assert.match(await w.dockerOk('run', '--rm', '--network', 'back', '--link', 'db:s1', 'busybox', 'nslookup', 's1'), /Address/, 'on a user network a link is an alias');
    const alias = await w.docker('run', '--rm', '--network-alias', 'x', 'busybox', 'true');
    assert.notEqual(alias.code, 0);
    assert.match(alias.stderr, /network-scoped alias/);
  });

  it('removes a legacy link with docker rm --link, as dockerd does', async () => {
    await w.dockerOk('run', '-d', '--name', 'parent', '--link', 'legacy:cache', '--add-host', 'cache:192.0.2.9', 'busybox', 'sleep', '10000');
    assert.match(await w.dockerOk('exec', 'parent', 'cat', '/etc/hosts'), /\tcache legacy [0-9a-f]{12}$/m);
    const refused = await w.docker('rm', '--link', 'legacy');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Error response from daemon: Conflict, cannot remove the default link name of the container/);
    const unknown = await w.docker('rm', '--link', '/parent/nope');
    assert.match(unknown.stderr, /Error response from daemon: No such container: parent\/nope/);
    assert.equal(await w.dockerOk('rm', '--link', '/parent/cache'), '/parent/cache');
    // The target is untouched; the link leaves the parent's hosts file (the --add-host line stays) and record.
    assert.equal(await w.dockerOk('inspect', '-f', '{{.State.Running}}', 'legacy'), 'true');
    const hosts = await w.dockerOk('exec', 'parent', 'cat', '/etc/hosts');
    assert.doesNotMatch(hosts, /cache legacy/);
    assert.match(hosts, /^192\.0\.2\.9\tcache$/m);
    assert.doesNotMatch(await w.dockerOk('inspect', '-f', '{{json .HostConfig.Links}}', 'parent'), /cache/);
    // Its next start neither writes the link nor needs its target.
    await w.dockerOk('stop', '-t', '0', 'legacy');
    await w.dockerOk('restart', '-t', '0', 'parent');
    assert.doesNotMatch(await w.dockerOk('exec', 'parent', 'env'), /CACHE_/);
    assert.doesNotMatch(await w.dockerOk('exec', 'parent', 'cat', '/etc/hosts'), /cache legacy/);
    const again = await w.docker('rm', '--link', 'parent/cache');
    assert.match(again.stderr, /No such container: parent\/cache/);
    await w.dockerOk('start', 'legacy');
    await w.dockerOk('rm', '-f', 'parent');
  });

  it('resolves a --link alias on a user network for the linking container only (run and network connect)', async () => {
    const dbIp = await ipOf('db', 'back');
    const ran = await w.docker('run', '--rm', '--network', 'back', '--link', 'db:bar', 'busybox', 'nslookup', 'bar');
    assert.equal(ran.code, 0, ran.stdout + ran.stderr);
    assert.ok(ran.stdout.includes(dbIp), ran.stdout);
    const plain = await w.docker('run', '--rm', '--network', 'back', '--link', 'db', 'busybox', 'nslookup', 'db');
    assert.ok(plain.stdout.includes(dbIp), plain.stdout + plain.stderr);
    // A live connect with --link: the alias is the connecting container's, on that network.
    await w.dockerOk('run', '-d', '--name', 'linker', 'busybox', 'sleep', '10000');
    await w.dockerOk('network', 'connect', '--link', 'db:bar', 'back', 'linker');
    const linked = await lookup('linker', 'bar');
    assert.equal(linked.code, 0, linked.stdout + linked.stderr);
    assert.ok(linked.stdout.includes(dbIp), linked.stdout);
    assert.match(await w.dockerOk('inspect', '-f', '{{.NetworkSettings.Networks.back.Links}}', 'linker'), /db:bar/);
    // Another container on the network does not see it.
    const other = await lookup('app', 'bar');
    assert.notEqual(other.code, 0, other.stdout);
    assert.ok(!other.stdout.includes(dbIp), other.stdout);
    // It outlives a restart of the linking container.
    await w.dockerOk('restart', '-t', '0', 'linker');
    assert.ok((await lookup('linker', 'bar')).stdout.includes(dbIp));
    await w.dockerOk('rm', '-f', 'linker');
  });
});

describe('embedded DNS with a loopback nameserver on the host (systemd-resolved)', () => {
  let w: World;
  let dir: string;
  let resolved: FakeUpstream | undefined;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-it-resolv-'));
    const hostResolvConf = path.join(dir, 'resolv.conf');
    fs.writeFileSync(hostResolvConf, 'nameserver 127.0.0.53\noptions edns0 trust-ad\n');
    w = await World.create({ daemonEnv: { BERTH_RESOLV_CONF: hostResolvConf } });
    // The "host's" stub resolver: on the loopback of the daemon's namespace (the world's), nowhere else.
    resolved = await FakeUpstream.start(w.nsPath, '127.0.0.53', { 'resolved.test': '192.0.2.53' });
    await w.dockerOk('pull', 'busybox');
    await w.dockerOk('network', 'create', 'u');
  });
  after(async () => {
    resolved?.close();
    await w.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("forwards from the daemon's namespace to the host's loopback nameserver", async () => {
    const out = await w.dockerOk('run', '--rm', '--network', 'u', 'busybox', 'nslookup', 'resolved.test');
    assert.match(out, /192\.0\.2\.53/);
    assert.ok(resolved!.seen.some((q) => q.name === 'resolved.test' && q.from === '127.0.0.1'), 'asked from the daemon\'s loopback');
    const conf = await w.dockerOk('run', '--rm', '--network', 'u', 'busybox', 'cat', '/etc/resolv.conf');
    assert.match(conf, /^nameserver 127\.0\.0\.11$/m);
    assert.doesNotMatch(conf, /127\.0\.0\.53/);
  });

  it('keeps the default bridge off the host loopback (Google fallback, no embedded resolver)', async () => {
    const conf = await w.dockerOk('run', '--rm', 'busybox', 'cat', '/etc/resolv.conf');
    assert.doesNotMatch(conf, /127\.0\.0\./);
    assert.match(conf, /^nameserver 8\.8\.8\.8$/m);
  });

  it("asks a --dns 127.0.0.53 on the container's own loopback, as Docker does", async () => {
    const before = resolved!.seen.length;
    const r = await w.docker('run', '--rm', '--network', 'u', '--dns', '127.0.0.53', 'busybox', 'nslookup', 'resolved.test');
    assert.notEqual(r.code, 0, r.stdout);
    assert.equal(resolved!.seen.length, before, 'the host-side server was not asked');
  });
});
