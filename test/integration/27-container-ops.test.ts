/**
 * The everyday verbs beside the lifecycle through the docker CLI and the raw API:
 * rename (DNS, links and container: modes follow), pause and unpause (really frozen,
 * Docker's refusals, stop/kill/rm -f of a paused container, a daemon restart keeps it
 * paused), top (ps over the container's cgroup) and stats (real cgroup and interface
 * counters, Docker's stream, one-shot and primed samples), each with its event.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { sleep } from '../lib/async.js';
import { World } from '../lib/world.js';

interface Stats {
  read: string;
  preread: string;
  name: string;
  id: string;
  pids_stats: { current?: number };
  memory_stats: { usage?: number; limit?: number; stats?: Record<string, number> };
  cpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage?: number };
  blkio_stats: Record<string, unknown>;
  networks?: Record<string, { rx_bytes: number; tx_packets: number }>;
}

interface Ev {
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
}

const nowText = (): string => (Date.now() / 1000).toFixed(6);

describe('rename, pause, top, stats', () => {
  let w: World;
  before(async () => {
    w = await World.create();
  });
  after(async () => {
    await w.dispose();
  });

  const inspect = async (name: string, format: string): Promise<string> => w.dockerOk('inspect', '-f', format, name);
  const events = async (since: string, action: string): Promise<Ev[]> => {
    const out = await w.dockerOk('events', '--since', since, '--until', nowText(), '--filter', `event=${action}`, '--format', '{{json .}}');
    return out.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Ev);
  };
  const fails = async (args: string[], code: number, message: RegExp): Promise<void> => {
    const r = await w.docker(...args);
    assert.equal(r.code, code, `docker ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message);
  };

  describe('rename', () => {
    it('renames a running container on a user network: its new name resolves, its old one no longer, and the event says so', async () => {
      const since = nowText();
      await w.dockerOk('network', 'create', 'rn');
      const id = await w.dockerOk('run', '-d', '--name', 'old-db', '--network', 'rn', 'busybox', 'sleep', '300');
      await w.dockerOk('run', '-d', '--name', 'asker', '--network', 'rn', '--link', 'old-db:store', 'busybox', 'sleep', '300');
      assert.equal((await w.docker('exec', 'asker', 'nslookup', 'old-db')).code, 0);
      assert.equal(await w.dockerOk('rename', 'old-db', 'new-db'), '');
      assert.equal(await inspect(id, '{{.Name}}'), '/new-db');
      assert.equal(await inspect('new-db', '{{.Id}}'), id);
      await fails(['inspect', 'old-db'], 1, /No such object: old-db/);
      const ip = await inspect('new-db', '{{.NetworkSettings.Networks.rn.IPAddress}}');
      assert.match(await w.dockerOk('exec', 'asker', 'nslookup', 'new-db'), new RegExp(`Address: ${ip.replace(/\./g, '\\.')}`));
      assert.notEqual((await w.docker('exec', 'asker', 'nslookup', 'old-db')).code, 0, 'the old name no longer resolves');
      // A link on the user network follows the container it named.
      assert.match(await w.dockerOk('exec', 'asker', 'nslookup', 'store'), new RegExp(`Address: ${ip.replace(/\./g, '\\.')}`));
      assert.equal(await inspect('asker', '{{json .NetworkSettings.Networks.rn.Links}}'), '["new-db:store"]');
      assert.equal(await inspect('new-db', '{{index .NetworkSettings.Networks.rn.DNSNames 0}}'), 'new-db');
      assert.match(await w.dockerOk('network', 'inspect', 'rn', '-f', '{{range .Containers}}{{.Name}} {{end}}'), /\bnew-db\b/);
      assert.match(await w.dockerOk('ps', '--format', '{{.Names}}'), /^new-db$/m);
      const [ev] = await events(since, 'rename');
      assert.equal(ev?.Actor.ID, id);
      assert.equal(ev?.Actor.Attributes.oldName, '/old-db');
      assert.equal(ev?.Actor.Attributes.name, 'new-db');
      // A daemon restart keeps the new name and its DNS record.
      await w.restart('SIGKILL');
      assert.match(await w.dockerOk('exec', 'asker', 'nslookup', 'new-db'), new RegExp(`Address: ${ip.replace(/\./g, '\\.')}`));
      await w.dockerOk('rm', '-f', 'new-db', 'asker');
      await w.dockerOk('network', 'rm', 'rn');
    });

    it('answers Docker\'s errors: same name, a name in use, a bad name, an empty name, a missing container', async () => {
      const id = await w.dockerOk('create', '--name', 'keeps', 'busybox', 'true');
      const other = await w.dockerOk('create', '--name', 'taken', 'busybox', 'true');
      await fails(['rename', 'keeps', 'keeps'], 1, /Error response from daemon: Renaming a container with the same name as its current name/);
      await fails(
        ['rename', 'keeps', 'taken'],
        1,
        new RegExp(`Error when allocating new name: Conflict\\. The container name "/taken" is already in use by container "${other}"\\. You have to remove \\(or rename\\) that container to be able to reuse that name\\.`),
      );
      await fails(['rename', 'keeps', 'no/slash'], 1, /Error when allocating new name: Invalid container name \(\/no\/slash\), only \[a-zA-Z0-9\]\[a-zA-Z0-9_.-\] are allowed/);
      await fails(['rename', 'nothere', 'anything'], 1, /No such container: nothere/);
      assert.deepEqual(await w.api('POST', '/containers/keeps/rename?name='), { status: 400, body: { message: 'Neither old nor new names may be empty' } });
      assert.equal((await w.api('POST', '/containers/keeps/rename?name=taken')).status, 409);
      // A stopped container renamed starts under its new name.
      await w.dockerOk('rename', id, 'renamed');
      await w.dockerOk('start', '-a', 'renamed');
      assert.equal(await inspect('renamed', '{{.State.ExitCode}}'), '0');
      await w.dockerOk('rm', 'renamed', 'taken');
    });

    it('links and container: modes follow the renamed container, and a linking container\'s /etc/hosts names it anew', async () => {
      const dbId = await w.dockerOk('run', '-d', '--name', 'ldb', 'busybox', 'sleep', '300');
      await w.dockerOk('run', '-d', '--name', 'lweb', '--link', 'ldb', '--link', 'ldb:store', 'busybox', 'sleep', '300');
      await w.dockerOk('run', '-d', '--name', 'side', '--network', 'container:ldb', 'busybox', 'sleep', '300');
      await w.dockerOk('rename', 'ldb', 'ldb2');
      const hosts = await w.dockerOk('exec', 'lweb', 'cat', '/etc/hosts');
      const short = dbId.slice(0, 12);
      assert.match(hosts, new RegExp(`\\tldb ldb2 ${short}$`, 'm'));
      assert.match(hosts, new RegExp(`\\tstore ldb2 ${short}$`, 'm'));
      // The links keep working across restarts of both ends, by the new name.
      await w.dockerOk('restart', '-t', '0', 'lweb');
      assert.match(await w.dockerOk('exec', 'lweb', 'cat', '/etc/hosts'), new RegExp(`\\tstore ldb2 ${short}$`, 'm'));
      assert.equal(await w.dockerOk('exec', 'lweb', 'sh', '-c', 'ping -c1 -W2 store >/dev/null && echo ok'), 'ok');
      await w.dockerOk('restart', '-t', '0', 'side');
      assert.equal(await inspect('side', '{{.HostConfig.NetworkMode}}'), 'container:ldb2');
      await w.dockerOk('rm', '-f', 'lweb', 'side', 'ldb2');
    });
  });

  describe('pause and unpause', () => {
    /** Lines the container has logged so far. */
    const lines = async (name: string): Promise<number> => (await w.dockerOk('logs', name)).split('\n').length;

    it('freezes the processes: Status paused, Running and Paused true, ps shows "(Paused)", events pause and unpause', async () => {
      const since = nowText();
      const id = await w.dockerOk('run', '-d', '--name', 'ticker', 'busybox', 'sh', '-c', 'while true; do echo tick; sleep 0.05; done');
      await sleep(300);
      assert.equal(await w.dockerOk('pause', 'ticker'), 'ticker');
      assert.equal(await inspect('ticker', '{{.State.Status}} {{.State.Running}} {{.State.Paused}}'), 'paused true true');
      assert.match(await w.dockerOk('ps', '--filter', 'name=ticker', '--format', '{{.Status}}'), /^Up .* \(Paused\)$/);
      assert.equal(await w.dockerOk('ps', '-q', '--no-trunc', '--filter', 'status=paused'), id);
      assert.equal(await w.dockerOk('ps', '-q', '--filter', 'status=running'), '');
      assert.equal(await w.dockerOk('info', '-f', '{{.ContainersPaused}} {{.ContainersRunning}}'), '1 0');
      const frozen = await lines('ticker');
      await sleep(400);
      assert.equal(await lines('ticker'), frozen, 'a paused container writes nothing');
      await w.dockerOk('unpause', 'ticker');
      assert.equal(await inspect('ticker', '{{.State.Status}} {{.State.Paused}}'), 'running false');
      await sleep(300);
      assert.ok((await lines('ticker')) > frozen, 'it goes on after unpause');
      const evs = [...(await events(since, 'pause')), ...(await events(since, 'unpause'))];
      assert.deepEqual(
        evs.map((e) => [e.Action, e.Actor.ID]),
        [
          ['pause', id],
          ['unpause', id],
        ],
      );
      await w.dockerOk('rm', '-f', 'ticker');
    });

    it('refuses as Docker: pause twice, unpause a running one, pause a stopped one; exec, attach, start and rm of a paused one', async () => {
      const id = await w.dockerOk('run', '-d', '--name', 'frozen', 'busybox', 'sleep', '300');
      await fails(['unpause', 'frozen'], 1, new RegExp(`Container ${id} is not paused`));
      await w.dockerOk('pause', 'frozen');
      await fails(['pause', 'frozen'], 1, new RegExp(`Container ${id} is already paused`));
      await fails(['exec', 'frozen', 'true'], 1, /Container frozen is paused, unpause the container before exec/);
      // The CLI refuses by itself ("You cannot attach to a paused container"); the daemon too.
      assert.deepEqual(await w.api('POST', '/containers/frozen/attach?stream=1&stdout=1'), {
        status: 409,
        body: { message: 'container frozen is paused, unpause the container before attach' },
      });
      await fails(['start', 'frozen'], 1, /cannot start a paused container, try unpause instead/);
      await fails(['rm', 'frozen'], 1, /cannot remove container "\/frozen": container is paused and must be unpaused first/);
      const created = await w.dockerOk('create', '--name', 'idle', 'busybox', 'true');
      await fails(['pause', 'idle'], 1, new RegExp(`container ${created} is not running`));
      await fails(['unpause', 'idle'], 1, new RegExp(`Container ${created} is not paused`));
      assert.equal((await w.api('POST', '/containers/frozen/pause')).status, 409);
      assert.equal((await w.api('POST', '/containers/nothere/pause')).status, 404);
      // rm -f of a paused container kills it.
      await w.dockerOk('rm', '-f', 'frozen', 'idle');
      assert.equal(await w.dockerOk('ps', '-aq'), '');
    });

    it('stop and kill end a paused container (it is thawed for the signal), and restart runs it again', async () => {
      await w.dockerOk('run', '-d', '--name', 'stopme', 'busybox', 'sh', '-c', 'trap "exit 7" TERM; while true; do sleep 0.1; done');
      await w.dockerOk('pause', 'stopme');
      await w.dockerOk('stop', '-t', '5', 'stopme');
      assert.equal(await inspect('stopme', '{{.State.Status}} {{.State.Paused}} {{.State.ExitCode}}'), 'exited false 7');
      await w.dockerOk('run', '-d', '--name', 'killme', 'busybox', 'sleep', '300');
      await w.dockerOk('pause', 'killme');
      await w.dockerOk('kill', 'killme');
      assert.equal(await inspect('killme', '{{.State.Status}} {{.State.Paused}} {{.State.ExitCode}}'), 'exited false 137');
      // The stop signal thaws it, even when its process outlives the signal; another signal waits for an unpause.
      await w.dockerOk('run', '-d', '--name', 'stubborn', 'busybox', 'sh', '-c', 'trap "" TERM USR1; while true; do sleep 0.1; done');
      await w.dockerOk('pause', 'stubborn');
      await w.dockerOk('kill', '-s', 'USR1', 'stubborn');
      assert.equal(await inspect('stubborn', '{{.State.Status}}'), 'paused');
      await w.dockerOk('kill', '-s', 'TERM', 'stubborn');
      assert.equal(await inspect('stubborn', '{{.State.Status}} {{.State.Paused}}'), 'running false');
      await w.dockerOk('rm', '-f', 'stubborn');
      await w.dockerOk('start', 'killme');
      await w.dockerOk('pause', 'killme');
      await w.dockerOk('restart', '-t', '0', 'killme');
      assert.equal(await inspect('killme', '{{.State.Status}} {{.State.Paused}}'), 'running false');
      await w.dockerOk('rm', '-f', 'stopme', 'killme');
    });

    it('a daemon restart (killed or stopped) keeps a paused container paused, and it unpauses after', async () => {
      await w.dockerOk('run', '-d', '--name', 'sleeper', 'busybox', 'sh', '-c', 'while true; do echo z; sleep 0.05; done');
      await w.dockerOk('pause', 'sleeper');
      for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
        await w.restart(signal);
        assert.equal(await inspect('sleeper', '{{.State.Status}} {{.State.Paused}}'), 'paused true', signal);
      }
      const frozen = await lines('sleeper');
      await w.dockerOk('unpause', 'sleeper');
      await sleep(300);
      assert.ok((await lines('sleeper')) > frozen);
      await w.dockerOk('rm', '-f', 'sleeper');
    });
  });

  describe('top', () => {
    it('lists the container\'s processes with ps (default -ef, or the given arguments), an exec\'d one too, and logs a top event', async () => {
      const since = nowText();
      const id = await w.dockerOk('run', '-d', '--name', 'topper', 'busybox', 'sleep', '300');
      const out = (await w.dockerOk('top', 'topper')).split('\n');
      assert.match(out[0]!, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
      assert.equal(out.length, 2);
      assert.match(out[1]!, /\ssleep 300$/);
      const pid = await inspect('topper', '{{.State.Pid}}');
      assert.match(out[1]!, new RegExp(`^root\\s+${pid}\\s`));
      assert.match(await w.dockerOk('top', 'topper', 'aux'), /^USER\s+PID\s+%CPU\s+%MEM\s+VSZ\s+RSS\s+TTY\s+STAT\s+START\s+TIME\s+COMMAND$/m);
      const exec = w.docker('exec', 'topper', 'sleep', '2');
      await sleep(500);
      const r = await w.api('GET', '/containers/topper/top?ps_args=-o%20pid,comm');
      assert.equal(r.status, 200);
      const body = r.body as { Titles: string[]; Processes: string[][] };
      assert.deepEqual(body.Titles, ['PID', 'COMMAND']);
      assert.deepEqual(body.Processes.map((p) => p[1]), ['sleep', 'sleep'], 'the exec\'d process is in the container\'s cgroup');
      await exec;
      // Paused, it is still listed.
      await w.dockerOk('pause', 'topper');
      assert.match(await w.dockerOk('top', 'topper'), /sleep 300/);
      await w.dockerOk('unpause', 'topper');
      assert.ok((await events(since, 'top')).some((e) => e.Actor.ID === id));
      await w.dockerOk('rm', '-f', 'topper');
    });

    it('refuses a stopped container (409) and a ps format that renames PID', async () => {
      const id = await w.dockerOk('create', '--name', 'notop', 'busybox', 'true');
      await fails(['top', 'notop'], 1, new RegExp(`container ${id} is not running`));
      assert.equal((await w.api('GET', '/containers/notop/top')).status, 409);
      await w.dockerOk('start', '-a', 'notop');
      await w.dockerOk('run', '-d', '--name', 'topargs', 'busybox', 'sleep', '300');
      const r = await w.api('GET', `/containers/topargs/top?ps_args=${encodeURIComponent('-o user=PID')}`);
      assert.deepEqual(r, { status: 400, body: { message: 'specifying "user=PID" is not allowed' } });
      await w.dockerOk('rm', '-f', 'notop', 'topargs');
    });
  });

  describe('stats', () => {
    const stats = async (name: string, query: string): Promise<Stats> => {
      const r = await w.api('GET', `/containers/${name}/stats?${query}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body as Stats;
    };

    it('docker stats --no-stream prints real numbers: CPU of a busy loop, memory, network, pids', async () => {
      await w.dockerOk('run', '-d', '--name', 'busy', 'busybox', 'sh', '-c', 'while :; do :; done');
      await w.dockerOk('run', '-d', '--name', 'quiet', 'busybox', 'sleep', '300');
      const out = await w.dockerOk('stats', '--no-stream', '--format', '{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.NetIO}} {{.PIDs}}');
      const rows = new Map(out.split('\n').map((l) => [l.split(' ')[0], l]));
      const busy = rows.get('busy') ?? '';
      assert.match(busy, /^busy (\d+\.\d\d)% \d+(\.\d+)?[KM]iB \/ \d+(\.\d+)?GiB \d+(\.\d+)?k?B \/ \d+(\.\d+)?k?B 1$/, out);
      // More than the quiet one's; how much depends on what else the machine runs (20% was not always there under load).
      assert.ok(Number(/ (\d+\.\d\d)%/.exec(busy)![1]) >= 1, `a busy loop uses a CPU: ${busy}`);
      assert.match(rows.get('quiet') ?? '', /^quiet 0\.\d\d% /);
      // -a adds the stopped ones, with zeros.
      await w.dockerOk('create', '--name', 'stopped', 'busybox', 'true');
      assert.match(await w.dockerOk('stats', '--no-stream', '-a', '--format', '{{.Name}} {{.CPUPerc}} {{.PIDs}}'), /^stopped 0\.00% 0$/m);
      await w.dockerOk('rm', '-f', 'busy', 'quiet', 'stopped');
    });

    it('answers Docker\'s stats JSON: a primed sample, one-shot, a stream whose precpu is the previous sample, and empty stats of a stopped container', async () => {
      const id = await w.dockerOk('run', '-d', '--name', 'st', 'busybox', 'sh', '-c', 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 300');
      const s = await stats('st', 'stream=0');
      assert.equal(s.name, '/st');
      assert.equal(s.id, id);
      assert.ok((s.pids_stats.current ?? 0) >= 1);
      assert.ok((s.memory_stats.usage ?? 0) > 0);
      assert.ok((s.memory_stats.limit ?? 0) > 0);
      assert.ok(s.memory_stats.stats !== undefined && 'rss' in s.memory_stats.stats !== 'anon' in s.memory_stats.stats, 'cgroup v1 or v2 keys');
      assert.ok(s.cpu_stats.cpu_usage.total_usage > 0);
      assert.ok((s.cpu_stats.system_cpu_usage ?? 0) > (s.precpu_stats.system_cpu_usage ?? 0), 'the previous sample is a second older');
      assert.ok(s.precpu_stats.cpu_usage.total_usage > 0);
      assert.ok(Date.parse(s.read) - Date.parse(s.preread) >= 900);
      assert.ok((s.networks?.eth0?.tx_packets ?? -1) >= 0);
      assert.deepEqual(Object.keys(s.networks ?? {}), ['eth0'], 'only the container\'s own interfaces, not lo');
      assert.ok('io_service_bytes_recursive' in s.blkio_stats);
      const once = await stats('st', 'stream=0&one-shot=1');
      assert.equal(once.preread, '0001-01-01T00:00:00Z');
      assert.equal(once.precpu_stats.cpu_usage.total_usage, 0);
      assert.deepEqual(await w.api('GET', '/containers/st/stats?stream=1&one-shot=1'), { status: 400, body: { message: 'cannot have stream=true and one-shot=true' } });
      // A stream: one sample a second, each with the previous one's CPU counters.
      const frames = await streamFrames(w, 'st', 2);
      assert.equal(frames.length, 2);
      assert.equal(frames[1]!.precpu_stats.cpu_usage.total_usage, frames[0]!.cpu_stats.cpu_usage.total_usage);
      assert.equal(frames[1]!.preread, frames[0]!.read);
      await w.dockerOk('stop', '-t', '0', 'st');
      const empty = await stats('st', 'stream=0');
      assert.equal(empty.read, '0001-01-01T00:00:00Z');
      assert.equal(empty.name, '/st');
      assert.equal(empty.networks, undefined);
      assert.deepEqual(empty.memory_stats, {});
      await w.dockerOk('rm', 'st');
      // No network of its own: no networks.
      await w.dockerOk('run', '-d', '--name', 'alone', '--network', 'none', 'busybox', 'sleep', '300');
      assert.equal((await stats('alone', 'stream=0&one-shot=1')).networks, undefined);
      await w.dockerOk('rm', '-f', 'alone');
    });
  });
});

/** The first `n` lines of a stats stream (GET /containers/{name}/stats), then the client leaves. */
async function streamFrames<T = Stats>(w: World, name: string, n: number): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath: w.sock, path: `/containers/${name}/stats` }, (res) => {
      let text = '';
      res.on('data', (b: Buffer) => {
        text += b.toString();
        const lines = text.split('\n').filter((l) => l !== '');
        if (text.endsWith('\n') && lines.length >= n) {
          req.destroy();
          resolve(lines.slice(0, n).map((l) => JSON.parse(l) as T));
        }
      });
    });
    req.on('error', reject);
  });
}
