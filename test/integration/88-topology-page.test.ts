/**
 * `berth topology --serve`'s page in headless Chromium (Debian's, driven by puppeteer-core),
 * everything inside the world's namespace: the page loads, ELK lays out a known world
 * (the host's bridge and its ports, each container's eth0, the veth cables between), and
 * it redraws by itself when a container starts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { REPO, World } from '../lib/world.js';

const CHROMIUM = '/usr/bin/chromium';

describe('berth topology --serve in headless Chromium', { skip: !fs.existsSync(CHROMIUM) && 'chromium is not installed (Debian package chromium)' }, () => {
  let w: World;
  let server: ChildProcess;
  let browser: Browser;
  let page: Page;
  let url: string;
  before(async () => {
    w = await World.create();
    await w.dockerOk('network', 'create', 'app');
    await w.dockerOk('run', '-d', '--name', 'web', '--network', 'app', '-p', '8080:80', 'busybox', 'sleep', '3600');
    await w.dockerOk('run', '-d', '--name', 'db', '--network', 'app', 'busybox', 'sleep', '3600');
    server = spawn('nsenter', [`--net=${w.nsPath}`, '--', path.join(REPO, 'bin/berth'), '-H', `unix://${w.sock}`, 'topology', '--serve', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    url = await new Promise<string>((res, rej) => {
      let out = '';
      server.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        const m = /Serving the topology on (\S+)/.exec(out);
        if (m) res(m[1]!);
      });
      server.on('close', (code) => rej(new Error(`berth topology --serve ended (${code}) before serving`)));
    });
    // Chromium runs inside the world's namespace too: its loopback is where the page is.
    const wrapper = path.join(w.dir, 'chromium-in-world');
    fs.writeFileSync(wrapper, `#!/bin/sh\nexec nsenter --net=${w.nsPath} -- ${CHROMIUM} "$@"\n`, { mode: 0o755 });
    browser = await puppeteer.launch({ executablePath: wrapper, pipe: true, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-dev-shm-usage'] });
    page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 900 });
  });
  after(async () => {
    await browser?.close();
    if (server && server.exitCode === null) {
      server.kill('SIGINT');
      await new Promise((r) => server.on('close', r));
    }
    await w.dispose();
  });

  const drawn = async (): Promise<number> => Number(await page.evaluate(() => document.body.dataset['drawn'] ?? '0'));
  const ids = async (selector: string): Promise<string[]> => page.$$eval(selector, (els) => els.map((e) => e.getAttribute('data-id') ?? ''));

  it('draws the known world: the bridge and its ports, each container’s eth0, veth cables, the published port', async () => {
    await page.goto(url);
    await page.waitForFunction(() => document.body.dataset['drawn'] === '1', { timeout: 20_000 });
    const nodes = await ids('g[data-id]');
    const bridge = `br-${(await w.dockerOk('network', 'inspect', '-f', '{{.Id}}', 'app')).slice(0, 12)}`;
    for (const id of ['ns:host', 'ns:web', 'ns:db', `host:${bridge}`, 'web:eth0', 'db:eth0', 'port:0.0.0.0:8080/tcp']) assert.ok(nodes.includes(id), `${id} among ${nodes.join(' ')}`);
    const veths = await ids('polyline.veth');
    assert.deepEqual(veths.map((e) => e.split(':').slice(1, 3).join(':')).filter((e) => e === 'web:eth0' || e === 'db:eth0').sort(), ['db:eth0', 'web:eth0']);
    assert.ok((await ids('polyline.port')).length >= 2, 'the veths’ host ends are wired to the bridge');
    await page.screenshot({ path: path.join(w.dir, 'topology.png') });
    assert.ok(fs.statSync(path.join(w.dir, 'topology.png')).size > 5000, 'a screenshot with something on it');
  });

  it('redraws by itself when a container starts', async () => {
    const before = await drawn();
    await w.dockerOk('run', '-d', '--name', 'cache', '--network', 'app', 'busybox', 'sleep', '3600');
    await page.waitForFunction((n: number) => Number(document.body.dataset['drawn']) > n && document.querySelector('g[data-id="cache:eth0"]') !== null, { timeout: 15_000 }, before);
    assert.ok((await ids('g[data-id]')).includes('ns:cache'));
  });
});
