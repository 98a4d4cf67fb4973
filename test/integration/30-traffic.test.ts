/** Traffic in and out: masquerade, published ports from everywhere, ICC, isolation, internal networks. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { settled } from '../lib/async.js';
import { must, World } from '../lib/world.js';

const BB = '/bin/busybox';

interface NftJson {
  nftables: ({ rule?: unknown; element?: unknown; map?: { name: string; elem?: unknown[] }; set?: { name: string; elem?: unknown[] } })[];
}

/** Rules and set/map elements in berth's tables of the world's namespace. */
async function nftCounts(w: World): Promise<{ rules: number; elements: number }> {
  let rules = 0;
  let elements = 0;
  for (const family of ['inet', 'bridge']) {
    const out = await w.inNs(w.ns, ['nft', '-j', 'list', 'table', family, 'berth']);
    if (out.code !== 0) continue;
    for (const o of (JSON.parse(out.stdout) as NftJson).nftables) {
      if (o.rule) rules++;
      elements += (o.map?.elem ?? o.set?.elem ?? []).length;
    }
  }
  return { rules, elements };
}

/** A UDP server answering "echo <datagram>" on `port` inside a container's namespace (the image has none). */
async function udpEcho(w: World, container: string, port: number): Promise<ChildProcess> {
  const pid = await w.dockerOk('inspect', '-f', '{{.State.Pid}}', container);
  const script = `const s = require('dgram').createSocket('udp4'); s.on('message', (m, r) => s.send('echo ' + m, r.port, r.address)); s.bind(${port});`;
  return w.spawnIn(`/proc/${pid}/ns/net`, [process.execPath, '-e', script]);
}

/** One datagram to host:port from the world's namespace, sent again until answered; the answer, or '' after 3 s. */
async function udpAsk(w: World, host: string, port: number): Promise<string> {
  const family = host.includes(':') ? 'udp6' : 'udp4';
  const script = `const s = require('dgram').createSocket('${family}');
    s.on('message', (m) => { process.stdout.write(String(m)); process.exit(0); });
    setInterval(() => s.send('ping', ${port}, '${host}'), 200);
    setTimeout(() => process.exit(1), 3000);`;
  return (await w.inNs(w.ns, [process.execPath, '-e', script])).stdout;
}

describe('traffic in and out', () => {
  let w: World;
  let lan: string;
  before(async () => {
    w = await World.create();
    lan = await w.addLan();
    // A server in the lan that tells who is asking.
    const www = path.join(w.dir, 'lanwww');
    fs.mkdirSync(path.join(www, 'cgi-bin'), { recursive: true });
    fs.writeFileSync(path.join(www, 'index.html'), 'lan page\n');
    fs.writeFileSync(path.join(www, 'cgi-bin', 'ip'), '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "$REMOTE_ADDR"\n', { mode: 0o755 });
    w.spawnIn(lan, [BB, 'httpd', '-f', '-p', '8000', '-h', www]);
    await w.dockerOk('pull', 'busybox');
    await w.dockerOk('run', '-d', '--name', 'web', '-p', '8080:80', '-p', '127.0.0.1:8081:80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www');
  });
  after(async () => {
    await w.dispose();
  });

  // curl, not the host's static busybox wget: that one crashes on the host's NSS setup.
  const fromLan = (url: string) => w.inNs(lan, ['curl', '-sf', '-m', '3', url]);
  // Retried: a container's httpd may not listen yet when `docker run -d` returns (the
  // relay then accepts and closes, an empty reply).
  const fromHost = (url: string) => w.inNs(w.ns, ['curl', '-sf', '-m', '3', '--retry', '4', '--retry-all-errors', '--retry-delay', '1', '-g', url]);

  it('masquerades egress: the lan sees the host address', async () => {
    const seen = await w.dockerOk('run', '--rm', 'busybox', 'wget', '-qO-', 'http://192.0.2.2:8000/cgi-bin/ip');
    assert.match(seen, /^(\[::ffff:)?192\.0\.2\.1\]?$/);
  });

  it('publishes a port to the lan, the host (its address and 127.0.0.1) and other containers', async () => {
    assert.match((await fromLan('http://192.0.2.1:8080/')).stdout, /berth/);
    assert.match((await fromHost('http://192.0.2.1:8080/')).stdout, /berth/);
    assert.match((await fromHost('http://127.0.0.1:8080/')).stdout, /berth/);
    assert.match(await w.dockerOk('run', '--rm', 'busybox', 'wget', '-qO-', 'http://192.0.2.1:8080/'), /berth/);
    assert.match(await w.dockerOk('exec', 'web', 'wget', '-qO-', 'http://192.0.2.1:8080/'), /berth/, 'hairpin to itself');
    assert.equal((await w.inNs(w.ns, ['sh', '-c', "ps -eo comm | grep -c proxy || true"])).stdout.trim(), '0');
  });

  it('serves ::1 and IPv6 host addresses of an IPv4-only container through the daemon\'s relay, TCP and UDP', async () => {
    await w.dockerOk('run', '-d', '--name', 'v4only', '-p', '[::1]:8190:80', '-p', '[::]:8193:80', '-p', '[::1]:5390:53/udp', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www');
    const echo = await udpEcho(w, 'v4only', 53);
    try {
      assert.match((await fromHost('http://[::1]:8190/')).stdout, /berth/);
      assert.match((await fromHost('http://[::1]:8193/')).stdout, /berth/, '[::] reached through ::1');
      assert.equal(await udpAsk(w, '::1', 5390), 'echo ping');
      assert.equal(await w.dockerOk('port', 'v4only', '80/tcp'), '[::1]:8190\n[::]:8193');
    } finally {
      echo.kill('SIGKILL');
      await w.dockerOk('rm', '-f', 'v4only');
    }
  });

  it('serves ::1 of an IPv6 network through the relay (the kernel cannot DNAT from ::1); no element for ::1', async () => {
    await w.dockerOk('network', 'create', '--ipv6', '--subnet', 'fd00:aa::/64', 'six');
    await w.dockerOk('run', '-d', '--name', 'web6', '--network', 'six', '-p', '[::1]:8191:80', '-p', '[::]:8192:80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www');
    try {
      assert.match((await fromHost('http://[::1]:8191/')).stdout, /berth/);
      assert.match((await fromHost('http://[::1]:8192/')).stdout, /berth/, '[::] reached through ::1');
      const map = (await w.inNs(w.ns, ['nft', 'list', 'map', 'inet', 'berth', 'pub6_port'])).stdout;
      assert.match(map, /::\/0 \. tcp \. 8192 : fd00:aa::2 \. 80/);
      assert.doesNotMatch(map, /::1 \. tcp/);
    } finally {
      await w.dockerOk('rm', '-f', 'web6');
      await w.dockerOk('network', 'rm', 'six');
    }
  });

  it('refuses SCTP that only the relay could serve, leaving the container Created', async () => {
    const r = await w.docker('run', '-d', '--name', 'nosctp', '-p', '[::1]:9000:9000/sctp', 'busybox', 'sleep', '100');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /cannot publish \[::1\]:9000:9000\/sctp: the kernel cannot forward from ::1 and berth's relay has no SCTP/);
    assert.equal(await w.dockerOk('inspect', '-f', '{{.State.Status}}', 'nosctp'), 'created');
    await w.dockerOk('rm', 'nosctp');
  });

  it('keeps 127.0.0.1 bindings and unpublished ports from the lan', async () => {
    assert.match((await fromHost('http://127.0.0.1:8081/')).stdout, /berth/);
    assert.notEqual((await fromLan('http://192.0.2.1:8081/')).code, 0);
    const ip = await w.dockerOk('inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'web');
    await must('ip', ['-n', lan, 'route', 'add', '172.17.0.0/16', 'via', '192.0.2.1']);
    assert.notEqual((await fromLan(`http://${ip}/`)).code, 0, 'the container address is not reachable from the lan');
    // A lan host that routes 127.0.0.1 to us: the DNAT must not turn its martian into a connection.
    await must('ip', ['-n', lan, 'addr', 'del', '127.0.0.1/8', 'dev', 'lo']);
    try {
      await must('ip', ['-n', lan, 'route', 'add', '127.0.0.1/32', 'via', '192.0.2.1']);
      await must('nsenter', [`--net=/run/netns/${lan}`, '--', 'sysctl', '-qw', 'net.ipv4.conf.all.route_localnet=1', 'net.ipv4.conf.eth0.route_localnet=1']);
      assert.notEqual((await fromLan('http://127.0.0.1:8081/')).code, 0, 'a 127.0.0.1 binding is the host’s alone');
    } finally {
      await w.inNs(lan, ['ip', 'route', 'del', '127.0.0.1/32']);
      await must('ip', ['-n', lan, 'addr', 'add', '127.0.0.1/8', 'dev', 'lo']);
    }
  });

  it('moves published ports and the default route to the next network when the one carrying them is disconnected', async () => {
    await w.dockerOk('network', 'create', '--subnet', '10.61.0.0/24', 'red');
    await w.dockerOk('network', 'create', '--subnet', '10.62.0.0/24', 'blue');
    try {
      await w.dockerOk('run', '-d', '--name', 'mover', '--network', 'red', '-p', '8900:80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www');
      await w.dockerOk('network', 'connect', 'blue', 'mover');
      await w.dockerOk('network', 'disconnect', 'red', 'mover');
      assert.match(await w.dockerOk('exec', 'mover', 'ip', 'route'), /default via 10\.62\.0\.1 dev eth1/);
      assert.equal(await w.dockerOk('port', 'mover', '80/tcp'), '0.0.0.0:8900');
      assert.match((await fromLan('http://192.0.2.1:8900/')).stdout, /berth/);
      await w.dockerOk('network', 'disconnect', 'blue', 'mover');
      assert.equal(await w.dockerOk('port', 'mover'), '', 'no network, no ports');
      await w.dockerOk('network', 'connect', 'red', 'mover');
      assert.equal(await w.dockerOk('port', 'mover', '80/tcp'), '0.0.0.0:8900');
      assert.match((await fromLan('http://192.0.2.1:8900/')).stdout, /berth/);
    } finally {
      await w.docker('rm', '-f', 'mover');
      await w.docker('network', 'rm', 'red', 'blue');
    }
  });

  it('shows the mappings as docker does', async () => {
    assert.equal(await w.dockerOk('port', 'web', '80/tcp'), '0.0.0.0:8080\n127.0.0.1:8081');
    const ports = JSON.parse(await w.dockerOk('inspect', '-f', '{{json .NetworkSettings.Ports}}', 'web')) as Record<string, unknown>;
    assert.deepEqual(ports, { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }, { HostIp: '127.0.0.1', HostPort: '8081' }] });
    assert.match(await w.dockerOk('ps', '--format', '{{.Ports}}', '-f', 'name=web'), /0\.0\.0\.0:8080->80\/tcp/);
  });

  it('refuses a taken port with Docker errors and leaves the container Created', async () => {
    const r = await w.docker('run', '-d', '--name', 'clash', '-p', '8080:80', 'busybox', 'sleep', '100');
    assert.notEqual(r.code, 0);
    // Docker 28's words, whole: the start's prefix, libnetwork's endpoint (the container's name and the endpoint's ID), the cause.
    assert.match(r.stderr, /Error response from daemon: failed to set up container networking: driver failed programming external connectivity on endpoint clash \([0-9a-f]{64}\): Bind for 0\.0\.0\.0:8080 failed: port is already allocated/);
    assert.equal(await w.dockerOk('inspect', '-f', '{{.State.Status}}', 'clash'), 'created');
    assert.match(await w.dockerOk('inspect', '-f', '{{.State.Error}}', 'clash'), /^failed to set up container networking: driver failed/);
    w.spawnIn(w.ns, [BB, 'nc', '-l', '-p', '8090']);
    await new Promise((r2) => setTimeout(r2, 300));
    const busy = await w.docker('run', '-d', '--name', 'clash2', '-p', '8090:80', 'busybox', 'sleep', '100');
    assert.notEqual(busy.code, 0);
    assert.match(busy.stderr, /address already in use/);
    await w.dockerOk('rm', 'clash', 'clash2');
  });

  it('publishes every exposed port on ephemeral ports with -P, and releases ports on stop', async () => {
    await w.dockerOk('run', '-d', '--name', 'eph', '--expose', '80', '-P', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www');
    const port = Number((await w.dockerOk('port', 'eph', '80')).split(':').pop());
    assert.ok(port >= 32768 && port <= 60999, String(port));
    assert.match((await fromLan(`http://192.0.2.1:${port}/`)).stdout, /berth/);
    await w.dockerOk('stop', '-t', '0', 'eph');
    assert.notEqual((await fromLan(`http://192.0.2.1:${port}/`)).code, 0);
    await w.dockerOk('rm', 'eph');
  });

  it('publishes a 1000-port range as a constant number of elements', async () => {
    const before = await nftCounts(w);
    await w.dockerOk('run', '-d', '--name', 'range', '-p', '20000-20999:20000-20999', 'busybox', 'httpd', '-f', '-p', '20500', '-h', '/www');
    const during = await nftCounts(w);
    assert.equal(during.rules, before.rules, 'no rule added');
    assert.ok(during.elements - before.elements <= 2, `elements added: ${during.elements - before.elements}`);
    assert.match((await fromLan('http://192.0.2.1:20500/')).stdout, /berth/);
    await w.dockerOk('rm', '-f', 'range');
    assert.deepEqual(await settled(() => nftCounts(w), (c) => isDeepStrictEqual(c, before)), before);
  });

  it('blocks container to container with enable_icc=false, but not published ports', async () => {
    await w.dockerOk('network', 'create', '-o', 'com.docker.network.bridge.enable_icc=false', 'noicc');
    await w.dockerOk('run', '-d', '--name', 'quiet', '--network', 'noicc', '-p', '8095:80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www');
    const ip = await w.dockerOk('inspect', '-f', '{{.NetworkSettings.Networks.noicc.IPAddress}}', 'quiet');
    const r = await w.docker('run', '--rm', '--network', 'noicc', 'busybox', 'sh', '-c', `timeout 3 wget -qO- http://${ip}/; exit $?`);
    assert.notEqual(r.code, 0);
    assert.match(await w.dockerOk('run', '--rm', '--network', 'noicc', 'busybox', 'wget', '-qO-', 'http://192.0.2.1:8095/'), /berth/);
    assert.match((await fromLan('http://192.0.2.1:8095/')).stdout, /berth/);
    await w.dockerOk('rm', '-f', 'quiet');
    await w.dockerOk('network', 'rm', 'noicc');
  });

  it('isolates bridge networks from each other; a container on both reaches both', async () => {
    await w.dockerOk('network', 'create', 'red');
    await w.dockerOk('network', 'create', 'blue');
    await w.dockerOk('run', '-d', '--name', 'r1', '--network', 'red', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www');
    await w.dockerOk('run', '-d', '--name', 'b1', '--network', 'blue', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www');
    const rIp = await w.dockerOk('inspect', '-f', '{{.NetworkSettings.Networks.red.IPAddress}}', 'r1');
    const bIp = await w.dockerOk('inspect', '-f', '{{.NetworkSettings.Networks.blue.IPAddress}}', 'b1');
    assert.notEqual((await w.docker('exec', 'r1', 'sh', '-c', `timeout 3 wget -qO- http://${bIp}/; exit $?`)).code, 0);
    assert.notEqual((await w.docker('exec', 'b1', 'sh', '-c', `timeout 3 wget -qO- http://${rIp}/; exit $?`)).code, 0);
    await w.dockerOk('run', '-d', '--name', 'both', '--network', 'red', 'busybox', 'sleep', '1000');
    await w.dockerOk('network', 'connect', 'blue', 'both');
    assert.match(await w.dockerOk('exec', 'both', 'wget', '-qO-', `http://${rIp}/`), /berth/);
    assert.match(await w.dockerOk('exec', 'both', 'wget', '-qO-', `http://${bIp}/`), /berth/);
    await w.dockerOk('rm', '-f', 'r1', 'b1', 'both');
    await w.dockerOk('network', 'rm', 'red', 'blue');
  });

  it('gives internal networks no way out', async () => {
    await w.dockerOk('network', 'create', '--internal', 'vault');
    const r = await w.docker('run', '--rm', '--network', 'vault', 'busybox', 'sh', '-c', `timeout 3 wget -qO- http://192.0.2.2:8000/; exit $?`);
    assert.notEqual(r.code, 0);
    assert.doesNotMatch(await w.dockerOk('run', '--rm', '--network', 'vault', 'busybox', 'ip', 'route'), /default/);
    await w.dockerOk('network', 'rm', 'vault');
  });

  it('keeps frames between containers of a bridge out of the inet hooks; --br-netfilter leaves the kernel default', async () => {
    const callOut = async (): Promise<string> => (await w.inNs(w.ns, ['sysctl', '-n', 'net.bridge.bridge-nf-call-iptables', 'net.bridge.bridge-nf-call-ip6tables'])).stdout;
    assert.equal(await callOut(), '0\n0\n');
    await w.inNs(w.ns, ['sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=1', 'net.bridge.bridge-nf-call-ip6tables=1']);
    await w.restart('SIGTERM', ['--br-netfilter']);
    assert.equal(await callOut(), '1\n1\n');
    // Published ports and container-to-container traffic work either way.
    assert.match((await fromLan('http://192.0.2.1:8080/')).stdout, /berth/);
    await w.restart('SIGTERM');
    assert.equal(await callOut(), '0\n0\n');
  });

  it('restores the rules after someone flushes the ruleset and the daemon restarts', async () => {
    await w.inNs(w.ns, ['nft', 'flush', 'ruleset']);
    assert.notEqual((await fromLan('http://192.0.2.1:8080/')).code, 0);
    await w.restart('SIGKILL');
    assert.match((await fromLan('http://192.0.2.1:8080/')).stdout, /berth/);
    assert.equal(await w.dockerOk('port', 'web', '80/tcp'), '0.0.0.0:8080\n127.0.0.1:8081');
  });
});

describe('--userland-proxy', () => {
  let w: World;
  before(async () => {
    w = await World.create({ daemonArgs: ['--userland-proxy'] });
  });
  after(async () => {
    await w.dispose();
  });

  it('serves 127.0.0.1 through a relay in the daemon, the rest in the kernel', async () => {
    await w.dockerOk('pull', 'busybox');
    await w.dockerOk('run', '-d', '--name', 'web', '-p', '8080:80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www');
    assert.match((await w.inNs(w.ns, ['curl', '-sf', '-m', '3', 'http://127.0.0.1:8080/'])).stdout, /berth/);
    const table = (await w.inNs(w.ns, ['nft', 'list', 'chain', 'inet', 'berth', 'dnat_local'])).stdout;
    assert.match(table, /meta l4proto tcp ip daddr 127\.0\.0\.0\/8 return/);
    // With the DNAT skipped for loopback, only berthd's relay can have answered 127.0.0.1.
    assert.match(await w.dockerOk('run', '--rm', 'busybox', 'wget', '-qO-', 'http://172.17.0.1:8080/'), /berth/);
  });

  it('leaves UDP to 127.0.0.1 to the kernel, and relays ::1 to an IPv4-only container', async () => {
    await w.dockerOk('run', '-d', '--name', 'mixed', '-p', '127.0.0.1:5391:53/udp', '-p', '[::1]:8190:80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www');
    const echo = await udpEcho(w, 'mixed', 53);
    try {
      assert.equal(await udpAsk(w, '127.0.0.1', 5391), 'echo ping');
      assert.match((await w.inNs(w.ns, ['curl', '-sf', '-m', '3', '-g', 'http://[::1]:8190/'])).stdout, /berth/);
    } finally {
      echo.kill('SIGKILL');
      await w.dockerOk('rm', '-f', 'mixed');
    }
  });
});
