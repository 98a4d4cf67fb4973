/**
 * docker events (replayed and live), system df and the prune family against the real
 * daemon, with Docker's attributes, report shapes and error texts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { settled } from '../lib/async.js';
import { must, World } from '../lib/world.js';

interface Ev {
  status?: string;
  id?: string;
  from?: string;
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: string;
  time: number;
  timeNano: number;
}

/** Unix seconds with a fraction, as the CLI sends since and until. */
const nowText = (): string => (Date.now() / 1000).toFixed(6);
const parseLines = (out: string): Ev[] => out.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Ev);
const filtersQuery = (f: Record<string, string[]>): string => encodeURIComponent(JSON.stringify(f));

describe('events, system df, prune', () => {
  let w: World;
  before(async () => {
    w = await World.create();
  });
  after(async () => {
    await w.dispose();
  });

  /** Remove every container, volume and user network (each test starts from none). */
  const clean = async (): Promise<void> => {
    const list = async (...args: string[]) => (await w.dockerOk(...args)).split('\n').filter(Boolean);
    const containers = await list('ps', '-aq');
    if (containers.length > 0) await w.dockerOk('rm', '-f', ...containers);
    const volumes = await list('volume', 'ls', '-q');
    if (volumes.length > 0) await w.dockerOk('volume', 'rm', ...volumes);
    const networks = (await list('network', 'ls', '--format', '{{.Name}}')).filter((n) => !['bridge', 'host', 'none'].includes(n));
    if (networks.length > 0) await w.dockerOk('network', 'rm', ...networks);
  };

  /** Events of the last `since` seconds via the API (replay only). */
  const eventsSince = async (since: string, filters: Record<string, string[]> = {}): Promise<Ev[]> => {
    const r = await w.api('GET', `/events?since=${since}&until=${nowText()}&filters=${filtersQuery(filters)}`);
    assert.equal(r.status, 200);
    return typeof r.body === 'string' ? parseLines(r.body) : [r.body as Ev];
  };

  let window: { since: string; until: string; id: string } | undefined;

  it('docker events --since --until replays a run, exec, stop and rm, and a network create, connect and rm, with their attributes', async () => {
    const since = nowText();
    await w.dockerOk('network', 'create', 'evnet');
    const id = await w.dockerOk('run', '-d', '--name', 'evweb', '--network', 'evnet', '--label', 'tier=front', '-v', 'evdata:/data', 'busybox', 'sleep', '60');
    await w.dockerOk('exec', 'evweb', 'echo', 'hi');
    await w.dockerOk('stop', '-t', '1', 'evweb'); // sleep as PID 1 ignores SIGTERM: a SIGKILL follows
    await w.dockerOk('rm', 'evweb');
    await w.dockerOk('network', 'rm', 'evnet');
    const until = nowText();
    window = { since, until, id };
    const all = parseLines(await w.dockerOk('events', '--since', since, '--until', until, '--format', '{{json .}}'));

    const mine = all.filter((e) => e.Actor.ID === id || e.Actor.Attributes.container === id || e.Actor.Attributes.name === 'evnet' || e.Actor.ID === 'evdata');
    assert.deepEqual(
      mine.map((e) => `${e.Type} ${e.Action}`),
      [
        'network create',
        'volume create',
        'container create',
        'network connect',
        'volume mount',
        'container start',
        'container exec_create: echo hi',
        'container exec_start: echo hi',
        'container exec_die',
        'container kill',
        'container kill',
        'network disconnect',
        'volume unmount',
        'container die',
        'container stop',
        'container destroy',
        'network destroy',
      ],
    );
    const by = (action: string) => mine.filter((e) => e.Action === action);
    const start = by('start')[0]!;
    assert.deepEqual(start.Actor.Attributes, { tier: 'front', image: 'busybox', name: 'evweb' });
    assert.equal(start.scope, 'local');
    assert.equal(start.status, 'start', 'the legacy fields old clients read');
    assert.equal(start.id, id);
    assert.equal(start.from, 'busybox');
    assert.equal(Math.floor(start.timeNano / 1e9), start.time);
    assert.deepEqual(by('kill').map((e) => e.Actor.Attributes.signal), ['15', '9']);
    assert.equal(by('die')[0]!.Actor.Attributes.exitCode, '137');
    const execDie = by('exec_die')[0]!;
    assert.equal(execDie.Actor.Attributes.exitCode, '0');
    assert.equal(execDie.Actor.Attributes.execID, by('exec_create: echo hi')[0]!.Actor.Attributes.execID);
    const net = mine.filter((e) => e.Type === 'network');
    assert.deepEqual(net[0]!.Actor.Attributes, { name: 'evnet', type: 'bridge' });
    assert.deepEqual(net[1]!.Actor.Attributes, { container: id, name: 'evnet', type: 'bridge' });
    assert.equal(net[1]!.status, undefined, 'network events have no legacy fields');
    assert.deepEqual(by('mount')[0]!.Actor.Attributes, { driver: 'local', container: id, destination: '/data', 'read/write': 'true', propagation: '' });
    assert.deepEqual(by('unmount')[0]!.Actor.Attributes, { driver: 'local', container: id });
    assert.deepEqual(by('create').find((e) => e.Type === 'volume')!.Actor.Attributes, { driver: 'local' });
  });

  it('filters events as dockerd does: type, event, container, label, image', async () => {
    assert.ok(window, 'runs after the replay test');
    const { since, until, id } = window;
    const actions = async (...filters: string[]) =>
      parseLines(await w.dockerOk('events', '--since', since, '--until', until, '--format', '{{json .}}', ...filters.flatMap((f) => ['--filter', f]))).map(
        (e) => `${e.Type} ${e.Action}`,
      );
    assert.deepEqual(await actions('type=network', 'event=connect'), ['network connect']);
    assert.deepEqual(await actions('type=network', 'event=connect', 'event=destroy'), ['network connect', 'network destroy']);
    assert.deepEqual(await actions('event=exec_start'), ['container exec_start: echo hi']);
    const ofContainer = await actions(`container=${id.slice(0, 10)}`);
    assert.equal(ofContainer.length, 10);
    assert.ok(ofContainer.every((a) => a.startsWith('container ')));
    assert.deepEqual(await actions('container=evweb'), ofContainer, 'by name too');
    assert.deepEqual(await actions('label=tier=front'), ofContainer);
    assert.deepEqual(await actions('image=busybox', 'event=die'), ['container die']);
    assert.deepEqual(await actions('volume=evdata'), ['volume create', 'volume mount', 'volume unmount']);
  });

  it('a streaming docker events --filter type=network receives connect and disconnect as they happen', async () => {
    const child = spawn('docker', ['events', '--filter', 'type=network', '--format', '{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.container}}'], {
      env: { ...process.env, DOCKER_HOST: `unix://${w.sock}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    try {
      const listeners = await settled(async () => ((await w.api('GET', '/info')).body as { NEventsListener: number }).NEventsListener, (n) => n === 1);
      assert.equal(listeners, 1, 'docker info counts the listener');
      await w.dockerOk('network', 'create', 'evlive');
      const id = await w.dockerOk('run', '-d', '--name', 'evlive1', 'busybox', 'sleep', '60');
      await w.dockerOk('network', 'connect', 'evlive', 'evlive1');
      await w.dockerOk('network', 'disconnect', 'evlive', 'evlive1');
      const want = ['create evlive <no value>', `connect bridge ${id}`, `connect evlive ${id}`, `disconnect evlive ${id}`];
      const lines = await settled(async () => out.split('\n').filter(Boolean), (l) => l.length >= want.length);
      assert.deepEqual(lines, want);
    } finally {
      child.kill();
    }
    await w.dockerOk('rm', '-f', 'evlive1');
    await w.dockerOk('network', 'rm', 'evlive');
    assert.equal(await settled(async () => ((await w.api('GET', '/info')).body as { NEventsListener: number }).NEventsListener, (n) => n === 0), 0);
  });

  it('system df measures on disk: a volume getting data, a container’s writable layer, images and their users', async () => {
    await clean();
    await w.dockerOk('volume', 'create', 'dfvol');
    await w.dockerOk('create', '--name', 'dfidle', '-v', 'dfvol:/data', 'busybox', 'true');
    type Df = {
      LayersSize: number;
      Images: { RepoTags: string[]; Containers: number; Size: number; SharedSize: number }[];
      Containers: { Names: string[]; SizeRw: number; SizeRootFs: number; Mounts: unknown[] }[];
      Volumes: { Name: string; UsageData: { Size: number; RefCount: number } }[];
      BuildCache: unknown[];
    };
    const df = async () => (await w.api('GET', '/system/df')).body as Df;
    const before = await df();
    assert.deepEqual(before.Volumes.find((v) => v.Name === 'dfvol')!.UsageData, { Size: 0, RefCount: 1 });
    assert.deepEqual(before.BuildCache, []);
    await w.dockerOk('run', '--name', 'dfw', '-v', 'dfvol:/data', 'busybox', 'sh', '-c', 'head -c 2000000 /dev/zero > /data/blob; head -c 500000 /dev/zero > /rw');
    const now = await df();
    assert.deepEqual(now.Volumes.find((v) => v.Name === 'dfvol')!.UsageData, { Size: 2_000_000, RefCount: 2 });
    const [busybox] = now.Images.filter((i) => i.RepoTags.includes('busybox:latest'));
    assert.equal(busybox!.Containers, 2);
    assert.equal(busybox!.SharedSize, 0);
    assert.ok(busybox!.Size > 0 && now.LayersSize >= busybox!.Size);
    const dfw = now.Containers.find((c) => c.Names[0] === '/dfw')!;
    assert.equal(dfw.SizeRw, 500_000);
    assert.equal(dfw.SizeRootFs, 500_000 + busybox!.Size);
    assert.equal(now.Containers.find((c) => c.Names[0] === '/dfidle')!.SizeRw, 0);

    assert.match(await w.dockerOk('system', 'df'), /^Local Volumes\s+1\s+1\s+2MB\s+0B \(0%\)$/m);
    const verbose = await w.dockerOk('system', 'df', '-v');
    assert.match(verbose, /^dfvol\s+2\s+2MB$/m);
    assert.match(verbose, /^[0-9a-f]{12}\s+busybox\s+"sh -c 'head -c 2000…"\s+1\s+500kB\s+.*dfw$/m);

    const volumesOnly = await w.api('GET', '/system/df?type=volume');
    assert.deepEqual(Object.keys(volumesOnly.body as object), ['Volumes']);
    assert.deepEqual(await w.api('GET', '/system/df?type=bogus'), { status: 400, body: { message: 'unknown object type: bogus' } });
  });

  it('container prune removes stopped containers only, with label!, label and until, and reports the bytes', async () => {
    await clean();
    await w.dockerOk('run', '-d', '--name', 'prup', 'busybox', 'sleep', '60');
    const written = await w.dockerOk('run', '--name', 'prwrote', 'busybox', 'sh', '-c', 'head -c 300000 /dev/zero > /f');
    assert.equal(written, '');
    const wroteId = await w.dockerOk('inspect', '-f', '{{.Id}}', 'prwrote');
    const keptId = await w.dockerOk('create', '--name', 'prkept', '--label', 'keep=1', 'busybox', 'true');
    const createdId = await w.dockerOk('create', '--name', 'prcreated', 'busybox', 'true');

    const recent = await w.api('POST', `/containers/prune?filters=${filtersQuery({ until: ['1h'] })}`);
    assert.deepEqual(recent, { status: 200, body: { ContainersDeleted: null, SpaceReclaimed: 0 } }, 'all were created within the hour');
    const r = await w.api('POST', `/containers/prune?filters=${filtersQuery({ 'label!': ['keep'] })}`);
    assert.equal(r.status, 200);
    const body = r.body as { ContainersDeleted: string[]; SpaceReclaimed: number };
    assert.deepEqual(body.ContainersDeleted.sort(), [wroteId, createdId].sort());
    assert.equal(body.SpaceReclaimed, 300_000);
    const out = await w.dockerOk('container', 'prune', '-f', '--filter', 'label=keep=1');
    assert.equal(out, `Deleted Containers:\n${keptId}\n\nTotal reclaimed space: 0B`);
    assert.equal(await w.dockerOk('ps', '-a', '--format', '{{.Names}}'), 'prup', 'the running one stays');
  });

  it('image prune: dangling only by default, every unused image with -a, never one a container uses', async () => {
    await clean();
    const dir = fs.mkdtempSync(path.join(w.dir, 'img-'));
    const tarOf = async (name: string, bytes: number): Promise<string> => {
      const root = path.join(dir, name);
      fs.mkdirSync(root);
      fs.writeFileSync(path.join(root, 'blob'), Buffer.alloc(bytes, name));
      await must('tar', ['-C', root, '-cf', `${root}.tar`, '.']);
      return `${root}.tar`;
    };
    const dangling = (await w.dockerOk('import', await tarOf('a', 100_000))).trim();
    await w.dockerOk('import', await tarOf('b', 200_000), 'unused:1');
    await w.dockerOk('create', '--name', 'imguser', 'busybox', 'true');

    // The image, then its layer (a chain ID), as dockerd lists them.
    assert.match(await w.dockerOk('image', 'prune', '-f'), new RegExp(`^Deleted Images:\ndeleted: ${dangling}\ndeleted: sha256:[0-9a-f]{64}\n\nTotal reclaimed space: 100kB$`));
    const all = await w.dockerOk('image', 'prune', '-af');
    assert.match(all, /^Deleted Images:\nuntagged: unused:1\ndeleted: sha256:[0-9a-f]{64}\ndeleted: sha256:[0-9a-f]{64}\n\nTotal reclaimed space: 200kB$/);
    assert.equal(await w.dockerOk('images', '--format', '{{.Repository}}:{{.Tag}}'), 'busybox:latest', 'busybox has a container');
    const r = await w.api('POST', `/images/prune?filters=${filtersQuery({ dangling: ['false'] })}`);
    assert.deepEqual(r, { status: 200, body: { ImagesDeleted: null, SpaceReclaimed: 0 } });
  });

  it('volume prune: unused anonymous volumes, named ones too with all=true, never one a container uses', async () => {
    await clean();
    await w.dockerOk('volume', 'create', 'vnamed');
    await w.dockerOk('run', '--name', 'vwriter', '-v', '/anon', 'busybox', 'sh', '-c', 'head -c 123456 /dev/zero > /anon/f');
    const anon = await w.dockerOk('inspect', '-f', '{{range .Mounts}}{{.Name}}{{end}}', 'vwriter');
    await w.dockerOk('rm', 'vwriter');
    await w.dockerOk('create', '--name', 'vuser', '-v', '/inuse', 'busybox', 'true');
    const inUse = await w.dockerOk('inspect', '-f', '{{range .Mounts}}{{.Name}}{{end}}', 'vuser');

    assert.equal(await w.dockerOk('volume', 'prune', '-f'), `Deleted Volumes:\n${anon}\n\nTotal reclaimed space: 123.5kB`);
    const r = await w.api('POST', `/volumes/prune?filters=${filtersQuery({ all: ['true'] })}`);
    assert.deepEqual(r, { status: 200, body: { VolumesDeleted: ['vnamed'], SpaceReclaimed: 0 } });
    assert.equal(await w.dockerOk('volume', 'ls', '-q'), inUse);
    // API 1.41 and older: every unused volume, named or not.
    await w.dockerOk('volume', 'create', 'vold');
    assert.deepEqual(await w.api('POST', '/v1.41/volumes/prune'), { status: 200, body: { VolumesDeleted: ['vold'], SpaceReclaimed: 0 } });
  });

  it('network prune: unused user networks, with label!, never predefined or used ones', async () => {
    await clean();
    await w.dockerOk('network', 'create', 'npa');
    await w.dockerOk('network', 'create', '--label', 'keep', 'npkeep');
    await w.dockerOk('network', 'create', 'npused');
    await w.dockerOk('run', '-d', '--name', 'npc', '--network', 'npused', 'busybox', 'sleep', '60');
    const r = await w.api('POST', `/networks/prune?filters=${filtersQuery({ 'label!': ['keep'] })}`);
    assert.deepEqual(r, { status: 200, body: { NetworksDeleted: ['npa'] } });
    assert.deepEqual(await w.api('POST', `/networks/prune?filters=${filtersQuery({ 'label!': ['keep'] })}`), { status: 200, body: { NetworksDeleted: null } });
    await w.dockerOk('rm', '-f', 'npc');
    assert.equal(await w.dockerOk('network', 'prune', '-f'), 'Deleted Networks:\nnpkeep\nnpused');
    assert.deepEqual((await w.dockerOk('network', 'ls', '--format', '{{.Name}}')).split('\n').sort(), ['bridge', 'host', 'none']);
  });

  it('docker system prune -af --volumes runs the four and prints the total; each logs a prune event', async () => {
    await clean();
    const since = nowText();
    await w.dockerOk('run', '--name', 'spc', '-v', '/spanon', 'busybox', 'sh', '-c', 'head -c 50000 /dev/zero > /spanon/f; head -c 70000 /dev/zero > /g');
    await w.dockerOk('network', 'create', 'spnet');
    const out = await w.dockerOk('system', 'prune', '-af', '--volumes');
    assert.match(out, /^Deleted Containers:\n[0-9a-f]{64}\n\nDeleted Networks:\nspnet\n\nDeleted Volumes:\n[0-9a-f]{64}\n\nDeleted Images:\nuntagged: busybox:latest\n/);
    const images = /deleted: sha256/g;
    assert.equal(out.match(images)?.length, 2, 'the image and its one layer');
    const busybox = out.match(/Total reclaimed space: (.*)$/)![1];
    assert.ok(busybox?.endsWith('MB'), busybox);
    const prunes = await eventsSince(since, { event: ['prune'] });
    assert.deepEqual(prunes.map((e) => `${e.Type} ${e.Actor.ID}`), ['container ', 'network ', 'volume ', 'image ']);
    assert.deepEqual(prunes.map((e) => e.Actor.Attributes.reclaimed).slice(0, 3), ['70000', '0', '50000']);
    assert.equal(await w.dockerOk('system', 'prune', '-f'), 'Total reclaimed space: 0B');
  });

  it('bad filters and times get dockerd’s errors', async () => {
    const bad = async (url: string) => w.api('POST', url);
    const q = filtersQuery;
    assert.deepEqual(await bad(`/containers/prune?filters=${q({ foo: ['bar'] })}`), { status: 400, body: { message: "invalid filter 'foo'" } });
    assert.deepEqual(await bad(`/containers/prune?filters=${q({ until: ['1h', '2h'] })}`), { status: 400, body: { message: 'more than one until filter specified' } });
    assert.deepEqual(await bad(`/networks/prune?filters=${q({ until: ['soon'] })}`), { status: 400, body: { message: 'failed to parse value as time or duration: "soon"' } });
    assert.deepEqual(await bad(`/images/prune?filters=${q({ dangling: ['maybe'] })}`), { status: 400, body: { message: "invalid filter 'dangling=[maybe]'" } });
    assert.deepEqual(await bad(`/volumes/prune?filters=${q({ until: ['1h'] })}`), { status: 400, body: { message: "invalid filter 'until'" } });
    assert.deepEqual(await bad(`/volumes/prune?filters=${q({ all: ['maybe'] })}`), {
      status: 400,
      body: { message: `invalid filter 'all': strconv.ParseBool: parsing "maybe": invalid syntax` },
    });
    const cli = await w.docker('container', 'prune', '-f', '--filter', 'foo=bar');
    assert.equal(cli.code, 1);
    assert.equal(cli.stderr.trim(), "Error response from daemon: invalid filter 'foo'");
    assert.deepEqual(await w.api('GET', '/events?since=abc'), {
      status: 400,
      body: { message: `invalid value for 'since': invalid timestamp "abc": invalid seconds "abc": invalid syntax` },
    });
    assert.deepEqual(await w.api('GET', '/events?since=20&until=10'), { status: 400, body: { message: '`since` time (20) cannot be after `until` time (10)' } });
    assert.deepEqual(await w.api('GET', `/events?since=1&until=2&filters=${q({ bogus: ['x'] })}`), { status: 400, body: { message: "invalid filter 'bogus'" } });
    const cliEvents = await w.docker('events', '--since', '20', '--until', '10');
    assert.equal(cliEvents.stderr.trim(), 'Error response from daemon: `since` time (20) cannot be after `until` time (10)');
  });
});
