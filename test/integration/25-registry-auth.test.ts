/**
 * Registries that want credentials or TLS, through the stock CLI: htpasswd basic auth
 * and token auth (a token server following Docker's token spec) with docker login and
 * logout, a TLS registry with a test CA in certs.d or --insecure-registry, and search
 * on a registry that has none. Seeded by skopeo with berth's docker save.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { World } from '../lib/world.js';
import { dockerAs, makeCa, registryMissing, startTokenServer, TestRegistry } from '../lib/registry.js';

const missing = registryMissing();
const BASIC = '127.0.0.1:5002';
const TOKEN = '127.0.0.1:5003';
const TLS_IP = '198.51.100.10';
const TLS = `${TLS_IP}:5443`;
const USERS = { alice: 'wonderland' };

describe('registries with credentials and TLS', { skip: missing ?? false }, () => {
  let w: World;
  let archive: string;
  let etc: string;
  let caCert: string;
  let configArgs: string[] = [];

  before(async () => {
    w = await World.create();
    // certs.d lives beside the configuration file: the world's own.
    etc = path.join(w.dir, 'etc');
    fs.mkdirSync(etc, { recursive: true });
    fs.writeFileSync(path.join(etc, 'daemon.json'), '{}');
    configArgs = ['--config-file', path.join(etc, 'daemon.json')];
    await w.restart('SIGTERM', configArgs);
    await w.ip('addr', 'add', `${TLS_IP}/32`, 'dev', 'lo');
    await w.dockerOk('pull', 'busybox');
    await w.dockerOk('run', '--name', 'maker', 'busybox', 'sh', '-c', 'echo secret-app > /app.txt');
    await w.dockerOk('commit', '-c', 'CMD ["cat", "/app.txt"]', 'maker', 'app:1');
    await w.dockerOk('rm', 'maker');
    archive = path.join(w.dir, 'app.tar');
    await w.dockerOk('save', '-o', archive, 'app:1');
    await w.dockerOk('rmi', 'app:1');
  });

  after(async () => {
    await w?.dispose();
  });

  it('htpasswd basic auth: no credentials, wrong ones, login, pull, logout', async () => {
    const reg = await TestRegistry.start(w, 'basic', { addr: BASIC, users: USERS });
    await reg.skopeo('copy', '--dest-tls-verify=false', '--dest-creds', 'alice:wonderland', `docker-archive:${archive}`, `docker://${BASIC}/team/app:1`);
    const cfg = path.join(w.dir, 'cli-basic');
    const anonymous = await dockerAs(w, cfg, ['pull', `${BASIC}/team/app:1`]);
    assert.notEqual(anonymous.code, 0);
    assert.match(anonymous.stderr, /no basic auth credentials/);
    const wrong = await dockerAs(w, cfg, ['login', '-u', 'alice', '--password-stdin', BASIC], 'nope\n');
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, new RegExp(`login attempt to http://${BASIC}/v2/ failed with status: 401 Unauthorized`));
    const ok = await dockerAs(w, cfg, ['login', '-u', 'alice', '--password-stdin', BASIC], 'wonderland\n');
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /Login Succeeded/);
    const saved = JSON.parse(fs.readFileSync(path.join(cfg, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
    assert.equal(Buffer.from(saved.auths[BASIC]!.auth, 'base64').toString(), 'alice:wonderland');
    const pulled = await dockerAs(w, cfg, ['pull', `${BASIC}/team/app:1`]);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal(await w.dockerOk('run', '--rm', `${BASIC}/team/app:1`), 'secret-app');
    await w.dockerOk('rmi', `${BASIC}/team/app:1`);
    assert.equal((await dockerAs(w, cfg, ['logout', BASIC])).code, 0);
    const after = await dockerAs(w, cfg, ['pull', `${BASIC}/team/app:1`]);
    assert.match(after.stderr, /no basic auth credentials/);
  });

  it('token auth: anonymous pull of a public repository, denied private one, login with a wrong and a right password', async () => {
    const token = await startTokenServer(w, w.dir, '127.0.0.1:5004', USERS);
    const reg = await TestRegistry.start(w, 'token', { addr: TOKEN, token: { realm: token.realm, service: 'berth-test-registry', issuer: 'berth-test-issuer', cert: token.cert } });
    for (const repo of ['public/app', 'private/app']) {
      await reg.skopeo('copy', '--dest-tls-verify=false', '--dest-creds', 'alice:wonderland', `docker-archive:${archive}`, `docker://${TOKEN}/${repo}:1`);
    }
    const cfg = path.join(w.dir, 'cli-token');
    const pub = await dockerAs(w, cfg, ['pull', `${TOKEN}/public/app:1`]);
    assert.equal(pub.code, 0, pub.stderr);
    const denied = await dockerAs(w, cfg, ['pull', `${TOKEN}/private/app:1`]);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, new RegExp(`pull access denied for ${TOKEN}/private/app, repository does not exist or may require 'docker login': denied: requested access to the resource is denied`));
    const wrong = await dockerAs(w, cfg, ['login', '-u', 'alice', '--password-stdin', TOKEN], 'nope\n');
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /unauthorized: incorrect username or password/);
    const ok = await dockerAs(w, cfg, ['login', '-u', 'alice', '--password-stdin', TOKEN], 'wonderland\n');
    assert.equal(ok.code, 0, ok.stderr);
    const priv = await dockerAs(w, cfg, ['pull', `${TOKEN}/private/app:1`]);
    assert.equal(priv.code, 0, priv.stderr);
    assert.equal(await w.dockerOk('run', '--rm', `${TOKEN}/private/app:1`), 'secret-app');
    // Pushing asks for push and pull scopes (and pull on the repository it mounts from).
    await w.dockerOk('tag', `${TOKEN}/private/app:1`, `${TOKEN}/private/copy:1`);
    const anonymous = await dockerAs(w, path.join(w.dir, 'cli-nobody'), ['push', `${TOKEN}/private/copy:1`]);
    assert.notEqual(anonymous.code, 0);
    assert.match(anonymous.stderr, /denied: requested access to the resource is denied|unauthorized/);
    const pushed = await dockerAs(w, cfg, ['push', `${TOKEN}/private/copy:1`]);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.match(pushed.stdout, /Mounted from (public|private)\/app/);
    await reg.skopeo('inspect', '--tls-verify=false', '--creds', 'alice:wonderland', `docker://${TOKEN}/private/copy:1`);
  });

  it('--registry-mirror: Docker Hub names are pulled from the mirror', async () => {
    const mirror = await TestRegistry.start(w, 'mirror', { addr: '127.0.0.1:5006' });
    await mirror.skopeo('copy', '--dest-tls-verify=false', `docker-archive:${archive}`, 'docker://127.0.0.1:5006/library/mirrored:1');
    await w.restart('SIGTERM', [...configArgs, '--registry-mirror', 'http://127.0.0.1:5006']);
    const out = await w.dockerOk('pull', 'mirrored:1');
    assert.match(out, /1: Pulling from library\/mirrored/);
    assert.match(out, /Status: Downloaded newer image for mirrored:1/);
    assert.equal(await w.dockerOk('run', '--rm', 'mirrored:1'), 'secret-app');
    await w.restart('SIGTERM', configArgs);
  });

  it('TLS with a test CA: refused unverified, trusted through certs.d, or taken insecure with --insecure-registry', async () => {
    const ca = await makeCa(path.join(w.dir, 'ca'));
    caCert = ca.caCert;
    const server = await ca.issue('registry', [TLS_IP]);
    const reg = await TestRegistry.start(w, 'tls', { addr: TLS, tls: server });
    const skopeoCerts = path.join(w.dir, 'skopeo-certs');
    fs.mkdirSync(skopeoCerts);
    fs.copyFileSync(caCert, path.join(skopeoCerts, 'ca.crt'));
    await reg.skopeo('copy', '--dest-cert-dir', skopeoCerts, `docker-archive:${archive}`, `docker://${TLS}/team/app:1`);
    const unknown = await w.docker('pull', `${TLS}/team/app:1`);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /x509: certificate signed by unknown authority/);
    const certsD = path.join(etc, 'certs.d', TLS);
    fs.mkdirSync(certsD, { recursive: true });
    fs.copyFileSync(caCert, path.join(certsD, 'ca.crt'));
    await w.dockerOk('pull', `${TLS}/team/app:1`);
    assert.equal(await w.dockerOk('run', '--rm', `${TLS}/team/app:1`), 'secret-app');
    await w.dockerOk('rmi', `${TLS}/team/app:1`);
    fs.rmSync(path.join(etc, 'certs.d'), { recursive: true });
    await w.restart('SIGTERM', [...configArgs, '--insecure-registry', TLS]);
    await w.dockerOk('pull', `${TLS}/team/app:1`);
    await w.restart('SIGTERM', configArgs);
  });

  it('search on a v2 registry: it has no search API, as Docker reports', async () => {
    const r = await w.docker('search', `${BASIC}/team`);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unexpected status code 404/);
  });
});
