/** Containers on real networks: the four network modes, connect/disconnect, /etc files, clean removal. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { upgrade } from '../lib/hijack.js';
import { sh, World } from '../lib/world.js';

describe('containers and network modes', () => {
  let w: World;
  before(async () => {
    w = await World.create();
    // busybox comes out of the box: the CLI's pull of a missing image builds it.
    assert.equal(await w.dockerOk('run', '--rm', 'busybox', 'echo', 'hello'), 'hello');
    await w.dockerOk('run', '-d', '--name', 'web', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www');
  });
  after(async () => {
    await w.dispose();
  });

  it('--network none has only lo, up', async () => {
    const out = await w.dockerOk('run', '--rm', '--network', 'none', 'busybox', 'ip', '-o', 'link');
    const links = out.split('\n').map((l) => l.split(': ')[1]);
    assert.deepEqual(links, ['lo']);
    assert.match(out, /lo: <LOOPBACK,UP/);
  });

  it('--network host sees the host namespace', async () => {
    const out = await w.dockerOk('run', '--rm', '--network', 'host', 'busybox', 'ip', '-o', 'link');
    assert.match(out, /berth0/);
    assert.equal(await w.dockerOk('network', 'inspect', 'host', '-f', '{{len .Containers}}'), '0');
    const published = await w.docker('run', '--rm', '--network', 'host', '-p', '8501:80', 'busybox', 'true');
    assert.equal(published.code, 0);
    assert.match(published.stderr, /^WARNING: Published ports are discarded when using host network mode$/m);
    assert.doesNotMatch((await w.docker('run', '--rm', '--network', 'host', 'busybox', 'true')).stderr, /WARNING/);
  });

  it('the default bridge gives a veth, an address, a route and a derived MAC', async () => {
    const ip = await w.dockerOk('inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'web');
    assert.match(ip, /^172\.17\.0\.\d+$/);
    const mac = await w.dockerOk('inspect', '-f', '{{.NetworkSettings.MacAddress}}', 'web');
    const octets = ip.split('.').map((x) => Number(x).toString(16).padStart(2, '0'));
    assert.equal(mac, `02:42:${octets.join(':')}`);
    const inside = await w.dockerOk('exec', 'web', 'ip', 'addr', 'show', 'eth0');
    assert.ok(inside.includes(`inet ${ip}/16`));
    assert.ok(inside.includes(mac));
    assert.match(await w.dockerOk('exec', 'web', 'ip', 'route'), /default via 172\.17\.0\.1 dev eth0/);
    const veths = (await w.ip('-o', 'link', 'show', 'master', 'berth0')).split('\n').filter((l) => l !== '');
    assert.ok(veths.some((l) => /veth[0-9a-f]{7}@/.test(l)), veths.join('\n'));
    const page = await w.dockerOk('run', '--rm', 'busybox', 'wget', '-qO-', `http://${ip}/`);
    assert.match(page, /berth/);
    const r = await w.docker('run', '--rm', '--ip', '172.17.0.99', 'busybox', 'true');
    assert.equal(r.code, 125);
    assert.match(r.stderr, /user specified IP address is supported on user.defined networks only/);
  });

  it('user networks take --ip, --mac-address and refuse an address outside the subnet', async () => {
    await w.dockerOk('network', 'create', '--subnet', '10.40.0.0/24', 'app');
    const out = await w.dockerOk('run', '--rm', '--network', 'app', '--ip', '10.40.0.50', '--mac-address', '02:aa:bb:cc:dd:ee', 'busybox', 'ip', 'addr', 'show', 'eth0');
    assert.match(out, /inet 10\.40\.0\.50\/24/);
    assert.match(out, /02:aa:bb:cc:dd:ee/);
    const bad = await w.docker('run', '--rm', '--network', 'app', '--ip', '10.41.0.5', 'busybox', 'true');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /invalid config for network app: invalid endpoint settings:\nno configured subnet contains IP address 10\.41\.0\.5/);
    const missing = await w.docker('run', '--rm', '--network', 'nosuch', 'busybox', 'true');
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /network nosuch not found/);
  });

  it('network connect checks a stopped container\'s settings at once, as start would', async () => {
    await w.dockerOk('network', 'create', '--subnet', '10.42.0.0/24', 'n3');
    await w.dockerOk('create', '--name', 'pre', '--network', 'app', 'busybox', 'sleep', '1000');
    const outside = await w.docker('network', 'connect', '--ip', '10.30.0.0', 'n3', 'pre');
    assert.notEqual(outside.code, 0);
    assert.match(outside.stderr, /invalid endpoint settings:\nno configured subnet contains IP address 10\.30\.0\.0/);
    assert.equal(await w.dockerOk('inspect', '-f', '{{len .NetworkSettings.Networks}}', 'pre'), '1', 'not recorded');
    await w.dockerOk('network', 'connect', '--ip', '10.42.0.9', 'n3', 'pre');
    await w.dockerOk('start', 'pre');
    assert.match(await w.dockerOk('exec', 'pre', 'ip', 'addr', 'show', 'eth1'), /inet 10\.42\.0\.9\/24/);
    await w.dockerOk('rm', '-f', 'pre');
    await w.dockerOk('network', 'rm', 'n3');
  });

  it('--network container: shares the target namespace', async () => {
    const target = await w.dockerOk('exec', 'web', 'cat', '/sys/class/net/eth0/address');
    const mine = await w.dockerOk('run', '--rm', '--network', 'container:web', 'busybox', 'cat', '/sys/class/net/eth0/address');
    assert.equal(mine, target);
    assert.match(await w.dockerOk('run', '--rm', '--network', 'container:web', 'busybox', 'wget', '-qO-', 'http://127.0.0.1/'), /berth/);
    await w.dockerOk('create', '--name', 'sleeper', 'busybox', 'sleep', '100');
    const r = await w.docker('run', '--rm', '--network', 'container:sleeper', 'busybox', 'true');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /cannot join network namespace of a non running container: container sleeper is created/);
    await w.dockerOk('rm', 'sleeper');
  });

  it('connects and disconnects a running container live', async () => {
    await w.dockerOk('network', 'create', '--subnet', '10.41.0.0/24', 'back');
    await w.dockerOk('run', '-d', '--name', 'db', '--network', 'back', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www');
    await w.dockerOk('run', '-d', '--name', 'api', '--network', 'app', 'busybox', 'sleep', '1000');
    const dbIp = await w.dockerOk('inspect', '-f', '{{.NetworkSettings.Networks.back.IPAddress}}', 'db');
    const before = await w.docker('exec', 'api', 'sh', '-c', `timeout 3 wget -qO- http://${dbIp}/; exit $?`);
    assert.notEqual(before.code, 0, 'not reachable before connect');
    await w.dockerOk('network', 'connect', '--ip', '10.41.0.77', 'back', 'api');
    assert.match(await w.dockerOk('exec', 'api', 'ip', 'addr', 'show', 'eth1'), /inet 10\.41\.0\.77\/24/);
    assert.match(await w.dockerOk('exec', 'api', 'wget', '-qO-', `http://${dbIp}/`), /berth/);
    const twice = await w.docker('network', 'connect', 'back', 'api');
    assert.notEqual(twice.code, 0);
    assert.equal((await w.api('POST', '/v1.44/networks/back/connect', { Container: 'api' })).status, 403);
    assert.match(twice.stderr, /already exists in network back/);
    const inspect = JSON.parse(await w.dockerOk('network', 'inspect', 'back', '-f', '{{json .Containers}}')) as Record<string, { Name: string; IPv4Address: string }>;
    assert.deepEqual(Object.values(inspect).map((c) => c.Name).sort(), ['api', 'db']);
    assert.ok(Object.values(inspect).some((c) => c.IPv4Address === '10.41.0.77/24'));
    const inUse = await w.docker('network', 'rm', 'back');
    assert.notEqual(inUse.code, 0);
    assert.match(inUse.stderr, /has active endpoints/);
    await w.dockerOk('network', 'disconnect', 'back', 'api');
    assert.notEqual((await w.docker('exec', 'api', 'ip', 'addr', 'show', 'eth1')).code, 0);
    const notMember = await w.docker('network', 'disconnect', 'back', 'api');
    assert.notEqual(notMember.code, 0);
    assert.match(notMember.stderr, /is not connected to network back/);
    await w.dockerOk('rm', '-f', 'api', 'db');
    await w.dockerOk('network', 'rm', 'back');
  });

  it('writes /etc/hosts, /etc/hostname and /etc/resolv.conf', async () => {
    const out = await w.dockerOk(
      'run', '--rm', '--hostname', 'box1', '--dns', '192.0.2.53', '--dns-search', 'example.test', '--dns-option', 'ndots:3',
      '--add-host', 'printer:192.0.2.9', 'busybox', 'sh', '-c', 'cat /etc/hostname /etc/hosts /etc/resolv.conf',
    );
    assert.match(out, /^box1$/m);
    assert.match(out, /^172\.17\.0\.\d+\tbox1$/m);
    assert.match(out, /^192\.0\.2\.9\tprinter$/m);
    assert.match(out, /^nameserver 192\.0\.2\.53$/m);
    assert.match(out, /^search example\.test$/m);
    assert.match(out, /^options ndots:3$/m);
    const fqdn = await w.dockerOk('run', '--rm', '-h', 'hh', '--domainname', 'dom.ain', 'busybox', 'cat', '/etc/hosts');
    assert.match(fqdn, /^172\.17\.0\.\d+\thh\.dom\.ain hh$/m, 'the FQDN first, as Docker');
    const uts = await w.dockerOk('run', '--rm', '-h', 'hh', '--domainname', 'dom.ain', 'busybox', 'sh', '-c', 'cat /proc/sys/kernel/domainname; hostname -d');
    assert.equal(uts, 'dom.ain\ndom.ain');
    const links = await w.dockerOk('run', '--rm', '--link', 'web:www', 'busybox', 'cat', '/etc/hosts');
    assert.match(links, /\twww web [0-9a-f]{12}$/m);
    const gateway = await w.dockerOk('network', 'inspect', 'bridge', '-f', '{{(index .IPAM.Config 0).Gateway}}');
    assert.match(await w.dockerOk('run', '--rm', '--add-host', 'gw:host-gateway', 'busybox', 'cat', '/etc/hosts'), new RegExp(`^${gateway.replace(/\./g, '\\.')}\tgw$`, 'm'));
    const host = await w.dockerOk('run', '--rm', '--network', 'host', '--add-host', 'printer:192.0.2.9', '--add-host', 'gw:host-gateway', 'busybox', 'cat', '/etc/hosts');
    assert.match(host, /^127\.0\.0\.1\tlocalhost$/m);
    assert.match(host, /^192\.0\.2\.9\tprinter$/m, 'host mode builds a file with the extra hosts');
    assert.match(host, new RegExp(`^${gateway.replace(/\./g, '\\.')}\tgw$`, 'm'));
    const bad = await w.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { ExtraHosts: ['x:300.1.1.1'] } });
    assert.equal(bad.status, 400);
    assert.equal((bad.body as { message: string }).message, 'invalid IP address in add-host: "300.1.1.1"');
  });

  it('--tmpfs mounts a fresh tmpfs with Docker\'s options; --read-only keeps the /etc files and volumes writable', async () => {
    const mounts = await w.dockerOk('run', '--rm', '--tmpfs', '/t', '--tmpfs', '/big:rw,size=64m,exec', 'busybox', 'grep', 'tmpfs /', '/proc/mounts');
    assert.match(mounts, /^tmpfs \/t tmpfs rw,nosuid,nodev,noexec,relatime/m);
    assert.match(mounts, /^tmpfs \/big tmpfs rw,nosuid,nodev,relatime,size=65536k/m);
    const ro = await w.docker('run', '--rm', '--read-only', '-v', 'rovol:/data', '--tmpfs', '/t', 'busybox', 'sh', '-c',
      'touch /x; echo "touch=$?"; echo 10.9.9.9 extra >> /etc/hosts && touch /data/f /t/f && echo writable');
    assert.match(ro.stderr, /Read-only file system/);
    assert.equal(ro.stdout, 'touch=1\nwritable\n');
    await w.dockerOk('volume', 'rm', 'rovol');
    assert.equal((await w.docker('run', '--rm', 'busybox', 'touch', '/x')).code, 0, 'writable without --read-only');
  });

  it('ps filters by publish, expose and volume, and lists the mounts', async () => {
    await w.dockerOk('run', '-d', '--name', 'pub', '-p', '8081:80', '--expose', '443', '-v', 'pubdata:/data', 'busybox', 'sleep', '1000');
    const ps = (filter: string) => w.dockerOk('ps', '--format', '{{.Names}}', '-f', filter);
    for (const f of ['publish=8081', 'publish=8000-8100/tcp', 'expose=80', 'expose=443/tcp', 'volume=pubdata', 'volume=/data']) {
      assert.equal(await ps(f), 'pub', f);
    }
    for (const f of ['publish=80', 'publish=8081/udp', 'expose=8081', 'volume=other']) assert.equal(await ps(f), '', f);
    const bad = await w.docker('ps', '-f', 'publish=0.0.0.0:8081');
    assert.match(bad.stderr, /filter for 'publish' should not contain ':': 0\.0\.0\.0:8081/);
    assert.equal(await w.dockerOk('ps', '-f', 'name=pub', '--format', '{{.Mounts}}'), 'pubdata');
    await w.dockerOk('rm', '-f', 'pub');
    await w.dockerOk('volume', 'rm', 'pubdata');
  });

  it('shows ports only while running on a bridge, as Docker clears them with the network', async () => {
    await w.dockerOk('run', '-d', '--name', 'exp', '--expose', '80', '-p', '8082:81', 'busybox', 'sleep', '1000');
    const ports = () => w.dockerOk('inspect', '-f', '{{json .NetworkSettings.Ports}}', 'exp');
    const column = () => w.dockerOk('ps', '-a', '--format', '{{.Ports}}', '-f', 'name=exp');
    assert.deepEqual(JSON.parse(await ports()), { '80/tcp': null, '81/tcp': [{ HostIp: '0.0.0.0', HostPort: '8082' }] });
    assert.match(await column(), /80\/tcp/);
    await w.dockerOk('stop', '-t', '0', 'exp');
    assert.equal(await ports(), '{}');
    assert.equal(await column(), '');
    await w.dockerOk('rm', 'exp');
    await w.dockerOk('run', '-d', '--name', 'hostexp', '--network', 'host', '--expose', '80', 'busybox', 'sleep', '1000');
    assert.equal(await w.dockerOk('inspect', '-f', '{{json .NetworkSettings.Ports}}', 'hostexp'), '{}');
    await w.dockerOk('rm', '-f', 'hostexp');
  });

  it('runs, execs, logs, stops, restarts and waits like docker', async () => {
    await w.dockerOk('run', '-d', '--name', 'talker', 'busybox', 'sh', '-c', 'echo to-out; echo to-err >&2; sleep 1000');
    const ex = await w.docker('exec', 'talker', 'sh', '-c', 'echo x; echo y >&2; exit 3');
    assert.equal(ex.code, 3);
    assert.equal(ex.stdout, 'x\n');
    assert.equal(ex.stderr, 'y\n');
    await new Promise((r) => setTimeout(r, 300));
    const logs = await w.docker('logs', 'talker');
    assert.equal(logs.stdout, 'to-out\n');
    assert.equal(logs.stderr, 'to-err\n');
    assert.equal(await w.dockerOk('inspect', '-f', '{{.State.Status}}', 'talker'), 'running');
    const pid = Number(await w.dockerOk('inspect', '-f', '{{.State.Pid}}', 'talker'));
    assert.ok(pid > 0);
    assert.equal((await w.dockerOk('exec', 'talker', 'cat', '/proc/1/cmdline')).split('\0')[0], 'sleep');
    assert.equal(await w.dockerOk('run', '--rm', 'busybox', 'sh', '-c', 'echo $$'), '1', 'the main process is PID 1');
    await w.dockerOk('stop', '-t', '1', 'talker');
    assert.equal(await w.dockerOk('inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'talker'), 'exited 137');
    assert.equal(await w.dockerOk('inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'talker'), '');
    await w.dockerOk('start', 'talker');
    assert.match(await w.dockerOk('inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'talker'), /^172\.17\./);
    await w.dockerOk('restart', '-t', '0', 'talker');
    assert.equal(await w.dockerOk('inspect', '-f', '{{.State.Status}}', 'talker'), 'running');
    const running = await w.docker('rm', 'talker');
    assert.notEqual(running.code, 0);
    assert.match(running.stderr, /container is running: stop the container before removing or force remove/);
    await w.dockerOk('kill', 'talker');
    assert.equal(await w.dockerOk('inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'talker'), 'exited 137', 'kill returns once it has exited');
    assert.equal(await w.dockerOk('wait', 'talker'), '137');
    const again = await w.api('POST', '/containers/talker/kill');
    assert.equal(again.status, 409);
    assert.match((again.body as { message: string }).message, /^cannot kill container: talker: container [0-9a-f]{64} is not running$/);
    // The signal is checked first, as dockerd does: 400 even for a stopped or missing container.
    for (const [name, signal, why] of [['talker', 'FOO', 'invalid signal: FOO'], ['nosuch', 'FOO', 'invalid signal: FOO'], ['talker', '99', 'the linux daemon does not support signal 99']]) {
      const bad = await w.api('POST', `/containers/${name}/kill?signal=${signal}`);
      assert.equal(bad.status, 400);
      assert.equal((bad.body as { message: string }).message, `cannot kill container: ${name}: ${why}`);
    }
    const badStop = await w.docker('stop', '-s', 'FOO', 'talker');
    assert.match(badStop.stderr, /invalid signal: FOO/, 'stop checks its signal too');
    const notFound = await w.docker('run', '--name', 'nocmd', 'busybox', 'no-such-cmd');
    assert.equal(notFound.code, 127);
    assert.equal(await w.dockerOk('inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'nocmd'), 'created 127');
    const denied = await w.docker('run', '--name', 'nox', 'busybox', '/etc/passwd');
    assert.equal(denied.code, 126);
    assert.equal(await w.dockerOk('inspect', '-f', '{{.State.ExitCode}}', 'nox'), '126');
    await w.dockerOk('rm', 'nocmd', 'nox');
    assert.equal((await w.docker('run', '--rm', '--privileged', 'busybox', 'true')).code, 0, '--privileged within the daemon\'s own bounding set');
    const code = await w.docker('run', '--rm', 'busybox', 'sh', '-c', 'exit 7');
    assert.equal(code.code, 7);
    await w.dockerOk('rm', 'talker');
  });

  it('gives -it a real terminal', async () => {
    const r = await sh('script', ['-qec', `docker -H unix://${w.sock} run --rm -it busybox sh -c 'tty; stty size'`, '/dev/null']);
    assert.match(r.stdout, /\/dev\/pts\/\d+/);
  });

  it('exec -it takes the terminal\'s size (ConsoleSize) and its changes (resize)', async () => {
    const docker = `docker -H unix://${w.sock}`;
    // script(1)'s stdin stays open until it ends: at its stdin's end script types an EOF
    // character into the terminal, which docker exec -it would forward (a stray ^@ ahead of
    // the output was seen under load with an empty stdin).
    const r = await new Promise<string>((resolve, reject) => {
      const child = spawn('script', ['-qec', `stty rows 33 cols 77; ${docker} exec -it web stty size`, '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.on('error', reject);
      child.on('close', () => resolve(out));
    });
    assert.match(r, /^33 77\r?$/m);
    const created = await w.api('POST', '/containers/web/exec', { Cmd: ['sh', '-c', 'sleep 0.5; stty size'], Tty: true, AttachStdout: true });
    const id = (created.body as { Id: string }).Id;
    // As the docker CLI: resize once the start is answered, while the process may still be starting.
    const stream = await upgrade(w.sock, `/exec/${id}/start`, { Tty: true, ConsoleSize: [20, 50] });
    assert.equal((await w.api('POST', `/exec/${id}/resize?h=41&w=99`)).status, 200);
    await stream.waitFor(/41 99/);
    stream.socket.destroy();
  });

  it('-it: a client leaving only detaches; the next attach types into the same stdin', async () => {
    // What `docker run -it` creates (StdinOnce), then Ctrl-P Ctrl-Q and `docker attach`.
    const created = await w.api('POST', '/containers/create?name=tty1', {
      Image: 'busybox', Cmd: ['sh'], Tty: true, OpenStdin: true, StdinOnce: true, AttachStdin: true, AttachStdout: true,
    });
    assert.equal(created.status, 201);
    const first = await upgrade(w.sock, '/containers/tty1/attach?stream=1&stdin=1&stdout=1&stderr=1');
    assert.equal((await w.api('POST', '/containers/tty1/start')).status, 204);
    first.socket.write('echo one-$((1+1))\n');
    await first.waitFor(/one-2/);
    first.socket.destroy();
    await new Promise((r) => setTimeout(r, 300));
    const second = await upgrade(w.sock, '/containers/tty1/attach?stream=1&stdin=1&stdout=1&stderr=1');
    second.socket.write('echo two-$((2+1))\n');
    await second.waitFor(/two-3/);
    second.socket.destroy();
    assert.equal(await w.dockerOk('inspect', '-f', '{{.State.Status}}', 'tty1'), 'running');
    await w.dockerOk('rm', '-f', 'tty1');
  });

  it('removes everything of a container, and rm -f of all works', async () => {
    await w.dockerOk('run', '-d', '--name', 'gone1', '--network', 'app', 'busybox', 'sleep', '1000');
    await w.dockerOk('run', '-d', '--name', 'gone2', 'busybox', 'sleep', '1000');
    const ids = (await w.dockerOk('ps', '-aq')).split('\n');
    assert.ok(ids.length >= 3);
    await w.dockerOk('rm', '-f', ...ids);
    assert.equal(await w.dockerOk('ps', '-aq'), '');
    assert.deepEqual((await w.links()).filter((l) => l.startsWith('veth')), []);
    assert.deepEqual(fs.readdirSync(path.join(w.execRoot, 'netns')).filter((f) => !f.startsWith('spare-')), []);
    assert.equal(fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(w.dir) && !l.includes('/spare-')).length, 0);
    assert.equal(await w.dockerOk('network', 'inspect', 'app', '-f', '{{len .Containers}}'), '0');
    // The addresses went back to the pool: the next container gets the first one again.
    assert.equal(await w.dockerOk('run', '--rm', '--network', 'app', 'busybox', 'sh', '-c', "ip -4 -o addr show eth0 | awk '{print $4}'"), '10.40.0.2/24');
  });
});

describe('containers across a daemon crash', () => {
  let w: World;
  before(async () => {
    w = await World.create();
  });
  after(async () => {
    await w.dispose();
  });

  it('keeps running containers, their addresses and reachability after kill -9', async () => {
    await w.dockerOk('network', 'create', '--subnet', '10.50.0.0/24', 'keep');
    await w.dockerOk('run', '-d', '--name', 'srv', '--network', 'keep', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www');
    await w.dockerOk('run', '-d', '--name', 'short', 'busybox', 'sh', '-c', 'sleep 2; exit 4');
    const ip = await w.dockerOk('inspect', '-f', '{{.NetworkSettings.Networks.keep.IPAddress}}', 'srv');
    await w.stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 2500)); // 'short' exits while the daemon is down
    const restartedAt = Date.now();
    await w.start();
    assert.equal(await w.dockerOk('inspect', '-f', '{{.State.Status}}', 'srv'), 'running');
    assert.equal(await w.dockerOk('inspect', '-f', '{{.NetworkSettings.Networks.keep.IPAddress}}', 'srv'), ip);
    assert.match(await w.dockerOk('run', '--rm', '--network', 'keep', 'busybox', 'wget', '-qO-', `http://${ip}/`), /berth/);
    assert.equal(await w.dockerOk('inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'short'), 'exited 4');
    const finished = Date.parse(await w.dockerOk('inspect', '-f', '{{.State.FinishedAt}}', 'short'));
    assert.ok(finished < restartedAt, 'FinishedAt is when it exited, not when berthd noticed');
    // The next container does not get srv's address.
    const other = await w.dockerOk('run', '--rm', '--network', 'keep', 'busybox', 'sh', '-c', "ip -4 -o addr show eth0 | awk '{print $4}'");
    assert.notEqual(other.split('/')[0], ip);
    await w.dockerOk('rm', '-f', 'srv', 'short');
    await w.dockerOk('network', 'rm', 'keep');
  });
});
