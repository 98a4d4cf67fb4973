/** Log options checked with Docker's words, the daemon's defaults merged at create, and daemon.json. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkLogConfig, settleLogConfig, usesCache } from '../../src/logs/config.js';
import { fromHumanSize, parseDuration, ramInBytes } from '../../src/logs/go-parse.js';
import { logTag, type LogInfo } from '../../src/logs/info.js';
import { configFlags, readConfigFile } from '../../src/daemon/config-file.js';
import { buildDaemonOptions, scanDaemonArgs, type GivenFlag } from '../../src/daemon/options.js';

const bad = (type: string, config: Record<string, string>, message: string | RegExp): void => {
  assert.throws(() => checkLogConfig(type, config), typeof message === 'string' ? { message } : message);
};

describe('log options', () => {
  it('sizes and durations as go-units and Go read them', () => {
    assert.equal(fromHumanSize('10m'), 10_000_000);
    assert.equal(fromHumanSize('1.5kB'), 1500);
    assert.equal(ramInBytes('10m'), 10 * 1024 * 1024);
    assert.equal(ramInBytes('2 MiB'), 2 * 1024 * 1024);
    assert.throws(() => fromHumanSize('big'), { message: "invalid size: 'big'" });
    assert.throws(() => fromHumanSize('10q'), { message: "invalid suffix: 'q'" });
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('1h2m'), 3_720_000);
    assert.throws(() => parseDuration('soon'), { message: 'time: invalid duration "soon"' });
  });

  it('json-file and local: known keys and good values, in the drivers\' words', () => {
    checkLogConfig('json-file', { 'max-size': '10m', 'max-file': '3', compress: 'true', labels: 'a', env: 'B', tag: '{{.Name}}' });
    bad('json-file', { 'max-sise': '1' }, "unknown log opt 'max-sise' for json-file log driver");
    bad('json-file', { 'max-size': '0' }, 'max-size must be a positive number');
    bad('json-file', { 'max-file': 'x' }, 'strconv.Atoi: parsing "x": invalid syntax');
    bad('json-file', { 'max-file': '0' }, 'max-file cannot be less than 1');
    bad('json-file', { compress: 'true' }, 'compress cannot be true when max-file is less than 2 or max-size is not set');
    bad('local', { foo: '1' }, "unknown log opt 'foo' for log driver local");
    bad('local', { 'max-size': 'x' }, "invalid value for max-size: x: invalid size: 'x'");
    bad('local', { 'max-file': '1' }, 'compression cannot be enabled when max file count is 1');
    checkLogConfig('local', { 'max-file': '1', compress: 'false' });
  });

  it('the shipper\'s and the cache\'s own options, and a tag template that does not parse', () => {
    bad('json-file', { mode: 'fast' }, 'logger: logging mode not supported: fast');
    bad('json-file', { 'max-buffer-size': '4m' }, "logger: max-buffer-size option is only supported with 'mode=non-blocking'");
    checkLogConfig('syslog', { mode: 'non-blocking', 'max-buffer-size': '4m', 'syslog-address': 'udp://127.0.0.1:514' });
    bad('syslog', { 'cache-disabled': 'maybe' }, 'invalid value for option cache-disabled: maybe');
    bad('json-file', { tag: '{{.Name' }, /^Error: template: log-tag:1:/);
    bad('json-file', { 'labels-regex': '(' }, /^Error: error parsing regexp:/);
    bad('awslogs', {}, "logger: no log driver named 'awslogs' is registered");
    checkLogConfig('none', { anything: 'goes' });
  });

  it('syslog, gelf and fluentd addresses and options', () => {
    bad('syslog', { 'syslog-address': 'http://x' }, "unsupported scheme: 'http'");
    bad('syslog', { 'syslog-address': 'unix:///nonexistent/log' }, 'stat /nonexistent/log: no such file or directory');
    bad('syslog', { 'syslog-facility': 'nope' }, 'invalid syslog facility');
    bad('syslog', { 'syslog-format': 'rfc9999' }, 'Invalid syslog format');
    bad('syslog', { 'syslog-tls-verify': '1' }, "unknown log opt 'syslog-tls-verify' for syslog log driver");
    checkLogConfig('syslog', { 'syslog-address': 'tcp+tls://[::1]:6514', 'syslog-facility': 'local3', 'syslog-format': 'rfc5424micro' });
    bad('gelf', {}, 'gelf-address is a required parameter');
    bad('gelf', { 'gelf-address': 'http://x:1' }, 'gelf: endpoint needs to be TCP or UDP');
    bad('gelf', { 'gelf-address': 'udp://x' }, 'gelf: please provide gelf-address as proto://host:port');
    bad('gelf', { 'gelf-address': 'tcp://x:1', 'gelf-compression-type': 'gzip' }, 'compression is only supported on UDP');
    bad('gelf', { 'gelf-address': 'udp://x:1', 'gelf-compression-type': 'lz4' }, 'unknown value "lz4" for log opt "gelf-compression-type" for gelf log driver');
    bad('gelf', { 'gelf-address': 'udp://x:1', 'gelf-tcp-max-reconnect': '2' }, '"gelf-tcp-max-reconnect" is only valid for TCP');
    bad('gelf', { 'gelf-address': 'udp://x:1', extra: '2' }, 'unknown log opt "extra" for gelf log driver');
    bad('fluentd', { 'fluentd-address': 'udp://x:1' }, "invalid fluentd-address (udp://x:1): unsupported scheme: 'udp'");
    bad('fluentd', { 'fluentd-retry-wait': 'x' }, 'time: invalid duration "x"');
    bad('fluentd', { 'fluentd-async-reconnect-interval': '1h' }, 'invalid value for fluentd-async-reconnect-interval: value ("1h") must be between 100ms and 10s');
    checkLogConfig('fluentd', { 'fluentd-address': 'unix:///run/fluent.sock', 'fluentd-async': 'true', 'fluentd-buffer-limit': '1000', 'fluentd-max-retries': '3' });
  });

  it('a create takes the daemon\'s driver, its options when the driver is the same, and its cache options always', () => {
    const daemon = { type: 'syslog', config: { 'syslog-address': 'udp://127.0.0.1:514', 'cache-max-file': '2' } };
    assert.deepEqual(settleLogConfig({ type: '', config: null }, daemon), daemon);
    assert.deepEqual(settleLogConfig({ type: 'syslog', config: { tag: 'x' } }, daemon), { type: 'syslog', config: { tag: 'x', ...daemon.config } });
    assert.deepEqual(settleLogConfig({ type: 'json-file', config: {} }, daemon), { type: 'json-file', config: { 'cache-max-file': '2' } });
    assert.throws(() => settleLogConfig({ type: 'json-file', config: { bad: '1' } }, daemon), (e: Error) => e.name === 'InvalidParameter');
    assert.equal(usesCache({ type: 'syslog', config: {} }), true);
    assert.equal(usesCache({ type: 'syslog', config: { 'cache-disabled': 'true' } }), false);
    assert.equal(usesCache({ type: 'json-file', config: {} }), false);
  });

  it('tag templates see Docker\'s names', () => {
    const info: LogInfo = {
      config: { tag: '{{.ImageName}}/{{.Name}}/{{.ID}}/{{.ImageID}}/{{.DaemonName}}/{{.Command}}' },
      containerId: 'f'.repeat(64), containerName: '/web', entrypoint: 'sh', args: ['-c', 'x'], imageId: 'sha256:' + 'e'.repeat(64),
      imageName: 'busybox:1', created: '', env: [], labels: {}, hostname: 'h',
    };
    assert.equal(logTag(info, '{{.ID}}'), `busybox:1/web/${'f'.repeat(12)}/${'e'.repeat(12)}/docker/sh -c x`);
    assert.equal(logTag({ ...info, config: {} }, '{{.ID}}'), 'f'.repeat(12));
    assert.equal(logTag({ ...info, config: {} }, ''), '');
  });
});

describe('daemon.json', () => {
  const withFile = (content: string, run: (path: string) => void): void => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-conf-'));
    try {
      const path = join(dir, 'daemon.json');
      writeFileSync(path, content);
      run(path);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const cli = (...argv: string[]): GivenFlag[] => scanDaemonArgs(argv) as GivenFlag[];

  it('its keys are the flags\', lists and maps as dockerd names them; the command line comes after', () => {
    withFile(
      JSON.stringify({ 'log-driver': 'local', 'log-opts': { 'max-size': '5m' }, dns: ['192.0.2.53'], mtu: 1400, iptables: false, 'default-address-pools': [{ base: '10.10.0.0/16', size: 24 }] }),
      (path) => {
        const flags = configFlags(path, readConfigFile(path, true)!, cli('--log-level', 'debug'));
        const o = buildDaemonOptions([...flags, ...cli('--log-level', 'debug')]);
        assert.equal(o.logDriver, 'local');
        assert.deepEqual(o.logOpts, { 'max-size': '5m' });
        assert.deepEqual(o.dns, ['192.0.2.53']);
        assert.equal(o.mtu, 1400);
        assert.equal(o.firewall, false);
        assert.equal(o.logLevel, 'debug');
        assert.equal(o.givenAddressPools.length, 1);
      },
    );
  });

  it('refuses unknown keys and keys also given as flags, in dockerd\'s words', () => {
    withFile('{"log-driver": "syslog", "debug": true, "bogus": 1}', (path) => {
      assert.throws(() => configFlags(path, readConfigFile(path, true)!, []), { message: `unable to configure the daemon with file ${path}: the following directives don't match any configuration option: debug, bogus` });
    });
    withFile('{"log-driver": "syslog", "dns": ["192.0.2.1"], "log-opts": {"tag": "x"}}', (path) => {
      assert.throws(() => configFlags(path, readConfigFile(path, true)!, cli('--log-driver', 'local', '--dns', '192.0.2.2', '--log-opt', 'tag=y')), {
        message: `unable to configure the daemon with file ${path}: the following directives are specified both as a flag and in the configuration file: log-driver: (from flag: local, from file: syslog), dns: (from flag: [192.0.2.2], from file: [192.0.2.1]), log-opts: (from flag: map[tag:y], from file: map[tag:x])`,
      });
    });
    withFile('{"mtu": "1400"}', (path) => {
      assert.throws(() => configFlags(path, readConfigFile(path, true)!, []), /json: cannot unmarshal string into Go struct field Config.mtu of type int/);
    });
    withFile('{"mtu": ', (path) => assert.throws(() => readConfigFile(path, true), /invalid JSON/));
    assert.equal(readConfigFile('/nonexistent/daemon.json', false), null);
    assert.throws(() => readConfigFile('/nonexistent/daemon.json', true), { message: 'unable to configure the daemon with file /nonexistent/daemon.json: open /nonexistent/daemon.json: no such file or directory' });
  });
});
