/**
 * pause and unpause on the fake runtime: a paused container stays paused (and alive)
 * across a daemon restart, a crash between the runtime's pause and the record is put
 * right from the runtime's state, and kill and stop of a paused container thaw it so
 * it exits.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseContainerCreate } from '../../src/api/routes/container-create.js';
import { ContainerEngine } from '../../src/engine/containers/engine.js';
import type { EngineImages } from '../../src/engine/containers/lifecycle.js';
import type { Digest } from '../../src/engine/images/config.js';
import type { ImageRecord } from '../../src/engine/images/store.js';
import { VolumeStore } from '../../src/engine/volumes/store.js';
import { FakeHost } from '../lib/fake-host.js';
import { FakeRuntime } from '../lib/fake-runtime.js';

const IMAGE: ImageRecord = {
  id: `sha256:${'b'.repeat(64)}` as Digest,
  config: { architecture: 'amd64', os: 'linux', config: { Cmd: ['sleep', '300'], Env: ['PATH=/bin'] }, rootfs: { type: 'layers', diff_ids: [] } },
  repoTags: ['busybox:latest'],
  repoDigests: [],
  size: 0,
  lastTagTime: undefined,
};
const IMAGES: EngineImages = { resolve: () => IMAGE, get: () => IMAGE, layerDirs: () => [], setUsers: () => undefined };

let tmp = '';
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-pause-'));
  fs.writeFileSync(path.join(tmp, 'resolv.conf'), 'nameserver 192.0.2.53\n');
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function openEngine(host: FakeHost, runtime: FakeRuntime, root: string): Promise<ContainerEngine> {
  return ContainerEngine.open({
    store: host.store,
    networks: host.networks,
    images: IMAGES,
    runtime,
    volumes: new VolumeStore(root),
    dataRoot: root,
    daemonDns: [],
    hostResolvConf: path.join(tmp, 'resolv.conf'),
    hostGatewayIps: [],
    embeddedDns: false,
    log: { info: () => undefined, warn: () => undefined },
  });
}

/** A daemon with one running container "box" (--network none). */
async function withBox(): Promise<{ host: FakeHost; runtime: FakeRuntime; root: string; engine: ContainerEngine; id: string }> {
  const host = await FakeHost.start();
  const runtime = new FakeRuntime(host.faults);
  const root = fs.mkdtempSync(path.join(tmp, 'root-'));
  const engine = await openEngine(host, runtime, root);
  const parsed = parseContainerCreate({ Image: 'busybox', HostConfig: { NetworkMode: 'none' } }, 'box');
  const { imageRef, ...spec } = parsed.req;
  const c = await engine.create({ ...spec, image: { ref: imageRef, id: IMAGE.id } }, parsed.docker);
  await engine.start(c.id);
  return { host, runtime, root, engine, id: c.id };
}

/** kill -9 of the daemon and a start: the store and the runtime's containers remain. */
async function restarted(d: { host: FakeHost; runtime: FakeRuntime; root: string }): Promise<ContainerEngine> {
  d.runtime.daemonDied();
  const engine = await openEngine(await d.host.restart(), d.runtime, d.root);
  await engine.reconcile();
  return engine;
}

describe('pause across a daemon restart', () => {
  it('a paused container stays paused and alive', async () => {
    const d = await withBox();
    await d.engine.ops.pause('box');
    const engine = await restarted(d);
    const c = engine.find('box');
    assert.equal(c.state.status, 'running');
    assert.equal(c.state.paused, true);
    assert.equal(d.runtime.containers.get(d.id)?.status, 'paused');
    await engine.ops.unpause('box');
    assert.equal(d.runtime.containers.get(d.id)?.status, 'running');
  });

  it('the runtime\'s state wins over a record a crash left behind, either way', async () => {
    const d = await withBox();
    await d.runtime.pause(d.id); // the crash came before the record said so
    let engine = await restarted(d);
    assert.equal(engine.find('box').state.paused, true);
    await d.runtime.resume(d.id); // and after a resume the record did not see
    engine = await restarted(d);
    assert.equal(engine.find('box').state.paused, false);
  });
});

describe('ending a paused container', () => {
  it('kill thaws it and it exits', async () => {
    const d = await withBox();
    await d.engine.ops.pause('box');
    await d.engine.kill('box');
    const c = d.engine.find('box');
    assert.equal(c.state.status, 'exited');
    assert.equal(c.state.paused, false);
  });

  it('stop thaws it and it exits; a start of a paused one is refused', async () => {
    const d = await withBox();
    await d.engine.ops.pause('box');
    await assert.rejects(d.engine.start('box'), /cannot start a paused container, try unpause instead/);
    assert.equal(await d.engine.stop('box', 0), true);
    assert.equal(d.engine.find('box').state.status, 'exited');
    assert.equal(d.engine.find('box').state.paused, false);
  });
});
