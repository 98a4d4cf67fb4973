/** The registry client's pure parts: challenges, platforms, progress bars, daemon settings, the API's reading of a pull. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChallenges } from '../../src/engine/images/distribution/errors.js';
import { choosePlatform, parsePlatform, formatPlatform, type Descriptor } from '../../src/engine/images/distribution/manifest.js';
import { progressBar } from '../../src/engine/images/distribution/progress.js';
import { RegistryHosts, validateInsecureRegistry, validateMirror } from '../../src/engine/images/distribution/hosts.js';
import { credentialsOf, decodeRegistryAuth, pullReference } from '../../src/api/routes/image-distribution.js';
import { loginHost } from '../../src/engine/images/distribution/login.js';

test('WWW-Authenticate: bearer and basic challenges, quoted commas, several headers', () => {
  const c = parseChallenges(['Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push"', 'Basic realm="Registry Realm"']);
  assert.deepEqual(c, [
    { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull,push' } },
    { scheme: 'basic', params: { realm: 'Registry Realm' } },
  ]);
  const scoped = parseChallenges(['Bearer realm="http://t/token",error="insufficient_scope"']);
  assert.equal(scoped[0]?.params.error, 'insufficient_scope');
});

const entry = (architecture: string, os: string, variant?: string): Descriptor => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${architecture.padEnd(64, '0').slice(0, 64).replace(/[^a-f0-9]/g, 'a')}`,
  size: 1,
  platform: { architecture, os, ...(variant ? { variant } : {}) },
});

test('a manifest list: the host platform, --platform with variants, attestations skipped, Docker\'s no-match error', () => {
  const index = { kind: 'index' as const, manifests: [entry('unknown', 'unknown'), entry('arm', 'linux', 'v6'), entry('arm', 'linux', 'v7'), entry('arm64', 'linux', 'v8'), entry('amd64', 'linux')] };
  assert.equal(choosePlatform(index, parsePlatform('linux/amd64')).platform?.architecture, 'amd64');
  assert.equal(choosePlatform(index, parsePlatform('linux/arm/v6')).platform?.variant, 'v6');
  assert.equal(choosePlatform(index, parsePlatform('linux/arm')).platform?.variant, 'v7');
  assert.equal(choosePlatform(index, parsePlatform('linux/aarch64')).platform?.architecture, 'arm64');
  assert.equal(formatPlatform(parsePlatform('linux/x86_64')), 'linux/amd64');
  assert.throws(() => choosePlatform(index, parsePlatform('linux/s390x')), /no matching manifest for linux\/s390x in the manifest list entries/);
  assert.throws(() => parsePlatform('linux//'), /unknown operating system or architecture/);
});

test('the progress string Docker renders next to progressDetail', () => {
  assert.equal(progressBar(0, 0), '');
  assert.equal(progressBar(2152000, 2152000), `[${'='.repeat(50)}>] ${'2.152MB'.padStart(8)}/2.152MB`);
  assert.equal(progressBar(500, 1000), `[${'='.repeat(25)}>${' '.repeat(25)}] ${'500B'.padStart(8)}/1kB`);
});

test('--registry-mirror and --insecure-registry are checked in dockerd\'s words', () => {
  assert.equal(validateMirror('https://mirror.example:5000'), 'https://mirror.example:5000/');
  assert.throws(() => validateMirror('mirror.example'), /invalid mirror: no scheme specified for "mirror.example": must use either 'https:\/\/' or 'http:\/\/'/);
  assert.throws(() => validateMirror('ftp://m'), /unsupported scheme "ftp"/);
  assert.throws(() => validateMirror('https://u:p@m'), /username\/password not allowed/);
  assert.equal(validateInsecureRegistry('http://reg.local:5000'), 'reg.local:5000');
  assert.equal(validateInsecureRegistry('10.0.0.0/8'), '10.0.0.0/8');
  assert.throws(() => validateInsecureRegistry('ftp://x'), /insecure registry ftp:\/\/x should not contain ':\/\/'/);
});

test('endpoints: Docker Hub after its mirrors (pulls only); loopback and listed hosts are insecure (https unverified, then http)', async () => {
  const hosts = new RegistryHosts({ insecureRegistries: ['reg.test:5000', '10.1.0.0/16'], mirrors: ['http://127.0.0.1:5006/'], certsDir: '/nonexistent' });
  assert.deepEqual((await hosts.endpoints('docker.io', { mirrors: true })).map((e) => e.url.href), ['http://127.0.0.1:5006/', 'https://registry-1.docker.io/']);
  assert.deepEqual((await hosts.endpoints('docker.io', { mirrors: false })).map((e) => e.url.href), ['https://registry-1.docker.io/']);
  const local = await hosts.endpoints('127.0.0.1:5000', { mirrors: false });
  assert.deepEqual(local.map((e) => e.url.href), ['https://127.0.0.1:5000/', 'http://127.0.0.1:5000/']);
  assert.equal(local[0]?.tls.skipVerify, true);
  assert.equal((await hosts.endpoints('reg.test:5000', { mirrors: false })).length, 2);
  assert.equal((await hosts.endpoints('10.1.2.3:443', { mirrors: false })).length, 2);
  assert.deepEqual((await hosts.endpoints('198.51.100.7:5000', { mirrors: false })).map((e) => e.url.href), ['https://198.51.100.7:5000/']);
  assert.equal(await hosts.isSecure('[::1]:5000'), false);
});

test('a pull\'s query: the tag may be a digest; no tag means every tag', () => {
  assert.deepEqual(pullReference('busybox', 'latest'), { domain: 'docker.io', path: 'library/busybox', tag: 'latest' });
  assert.deepEqual(pullReference('localhost:5000/a/b', '1.0'), { domain: 'localhost:5000', path: 'a/b', tag: '1.0' });
  const d = `sha256:${'a'.repeat(64)}`;
  assert.deepEqual(pullReference('localhost:5000/a/b', d), { domain: 'localhost:5000', path: 'a/b', digest: d });
  assert.deepEqual(pullReference('localhost:5000/a/b', ''), { domain: 'localhost:5000', path: 'a/b' });
  assert.deepEqual(pullReference('localhost:5000/a/b:old', 'new'), { domain: 'localhost:5000', path: 'a/b', tag: 'new' });
});

test('X-Registry-Auth and POST /auth bodies: username/password, the auth pair, tokens', () => {
  assert.deepEqual(credentialsOf({ username: 'alice', password: 'pw', serveraddress: 'r:5000' }), { username: 'alice', password: 'pw', serverAddress: 'r:5000' });
  assert.deepEqual(credentialsOf({ auth: Buffer.from('bob:s:ecret').toString('base64') }), { username: 'bob', password: 's:ecret' });
  assert.deepEqual(credentialsOf({ identitytoken: 'tok' }), { identityToken: 'tok' });
  assert.equal(credentialsOf({}), undefined);
  // The header as the CLI sends it (base64url: '-' and '_'), and as a service keeps it for its nodes' pulls.
  const header = Buffer.from(JSON.stringify({ username: 'svc', password: '>>??>>' })).toString('base64url');
  assert.match(header, /[-_]/);
  assert.deepEqual(decodeRegistryAuth(header), { username: 'svc', password: '>>??>>' });
  assert.equal(decodeRegistryAuth('not base64 json'), undefined);
  assert.equal(decodeRegistryAuth(''), undefined);
  assert.equal(loginHost('https://index.docker.io/v1/'), 'docker.io');
  assert.equal(loginHost('127.0.0.1:5000'), '127.0.0.1:5000');
  assert.equal(loginHost(undefined), 'docker.io');
});
