import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkHealthConfig, healthConfigOf, healthJson, mergeHealthConfig, probeOf, unknownProbeType } from '../../src/engine/containers/health-config.js';
import { parseContainerCreate } from '../../src/api/routes/container-create.js';
import { goDuration } from '../../src/util/go-duration.js';

describe('health config', () => {
  it('dockerd\'s checks, in its words', () => {
    const fails = (hc: object, msg: string) => assert.throws(() => checkHealthConfig(hc), { message: msg });
    fails({ Interval: -10e6 }, 'Interval in Healthcheck cannot be less than 1ms');
    fails({ Interval: 500e3 }, 'Interval in Healthcheck cannot be less than 1ms');
    fails({ Timeout: -100e6 }, 'Timeout in Healthcheck cannot be less than 1ms');
    fails({ Retries: -10 }, 'Retries in Healthcheck cannot be negative');
    fails({ StartPeriod: 100 }, 'StartPeriod in Healthcheck cannot be less than 1ms');
    fails({ StartInterval: 100 }, 'StartInterval in Healthcheck cannot be less than 1ms');
    checkHealthConfig({ Interval: 0, Timeout: 1e6, Retries: 0, StartPeriod: 0 });
  });

  it('merges as moby: the image\'s check, each field the container sets taking its place', () => {
    const image = { Test: ['CMD-SHELL', 'curl -f localhost'], Interval: 5e9, Timeout: 2e9, Retries: 4 };
    assert.deepEqual(mergeHealthConfig(undefined, image), image);
    assert.deepEqual(mergeHealthConfig({ Test: ['CMD', 'true'], Interval: 0, StartPeriod: 1e9 }, image), { Test: ['CMD', 'true'], Interval: 5e9, Timeout: 2e9, StartPeriod: 1e9, Retries: 4 });
    assert.deepEqual(mergeHealthConfig({ Test: [], Retries: 1 }, image), { ...image, Retries: 1 }, 'an empty Test inherits');
    assert.deepEqual(mergeHealthConfig({ Test: ['NONE'] }, image), { ...image, Test: ['NONE'] }, '--no-healthcheck');
    assert.deepEqual(mergeHealthConfig({ Test: ['CMD', 'true'] }, undefined), { Test: ['CMD', 'true'] });
    assert.equal(mergeHealthConfig(undefined, undefined), undefined);
  });

  it('shows Config.Healthcheck as Docker: Go\'s field order, zero fields left out', () => {
    const json = healthJson({ Retries: 2, Interval: 2e8, Test: ['CMD-SHELL', 'true'], StartPeriod: 0, Timeout: 1e9 });
    assert.equal(JSON.stringify(json), '{"Test":["CMD-SHELL","true"],"Interval":200000000,"Timeout":1000000000,"Retries":2}');
    assert.equal(JSON.stringify(healthJson({})), '{}');
    assert.deepEqual(healthConfigOf(json), { Test: ['CMD-SHELL', 'true'], Interval: 2e8, Timeout: 1e9, Retries: 2 });
    assert.equal(healthConfigOf(null), undefined);
  });

  it('the probe: CMD runs its arguments, CMD-SHELL the shell; Docker\'s defaults; NONE and unknown types run nothing', () => {
    assert.deepEqual(probeOf({ Test: ['CMD', 'pg_isready', '-q'] }), {
      argv: ['pg_isready', '-q'], intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, startIntervalMs: 5_000, retries: 3, timeoutText: '30s',
    });
    const p = probeOf({ Test: ['CMD-SHELL', 'exit 1'], Interval: 2e8, Timeout: 1.5e9, StartPeriod: 1e9, StartInterval: 1e8, Retries: 1 })!;
    assert.deepEqual(p, { argv: ['/bin/sh', '-c', 'exit 1'], intervalMs: 200, timeoutMs: 1500, startPeriodMs: 1000, startIntervalMs: 100, retries: 1, timeoutText: '1.5s' });
    assert.deepEqual(probeOf({ Test: ['CMD-SHELL', 'true'] }, ['/bin/bash', '-ec'])!.argv, ['/bin/bash', '-ec', 'true'], 'Config.Shell');
    for (const hc of [undefined, {}, { Test: [] }, { Test: ['NONE'] }, { Test: ['HTTP', '/'] }]) assert.equal(probeOf(hc), undefined);
    assert.equal(unknownProbeType({ Test: ['HTTP', '/'] }), "Unknown healthcheck type 'HTTP' (expected 'CMD')");
    assert.equal(unknownProbeType({ Test: ['NONE'] }), undefined);
  });

  it('the create request: nulls dropped, StartInterval only from API 1.44, bad values refused', () => {
    const create = (hc: unknown, version?: string) => parseContainerCreate({ Image: 'busybox', Healthcheck: hc }, null, version);
    const pyStyle = create({ Test: ['CMD-SHELL', 'true'], Interval: 200_000_000, Timeout: 1_000_000_000, Retries: 2, StartPeriod: null });
    assert.deepEqual(pyStyle.req.healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 2e8, Timeout: 1e9, Retries: 2 });
    assert.equal(JSON.stringify((pyStyle.docker.config as { Healthcheck: unknown }).Healthcheck), '{"Test":["CMD-SHELL","true"],"Interval":200000000,"Timeout":1000000000,"Retries":2}');
    assert.equal(create(null).req.healthcheck, undefined);
    assert.equal('Healthcheck' in (create(null).docker.config as object), false);
    assert.equal(create({ StartInterval: 1e8 }, '1.43').req.healthcheck?.StartInterval, undefined);
    assert.equal(create({ StartInterval: 100 }, '1.43').req.healthcheck?.StartInterval, undefined, 'ignored, so not checked either');
    assert.throws(() => create({ StartInterval: 100 }, '1.44'), { message: 'StartInterval in Healthcheck cannot be less than 1ms' });
    assert.throws(() => create({ Retries: -1 }), { message: 'Retries in Healthcheck cannot be negative' });
    assert.throws(() => create({ Interval: '1s' }), { message: 'json: cannot unmarshal string into Go struct field Config.Healthcheck.Interval of type int64' });
    assert.throws(() => create({ Interval: 1.5 }), /cannot unmarshal number into Go struct field Config.Healthcheck.Interval/);
    assert.throws(() => create({ Test: 'true' }), /cannot unmarshal string into Go struct field Config.Healthcheck.Test of type \[\]string/);
    assert.deepEqual(create({ test: ['CMD', 'true'], INTERVAL: 1e9 }).req.healthcheck, { Test: ['CMD', 'true'], Interval: 1e9 }, 'keys matched as Go matches them');
  });

  it('Go\'s duration text', () => {
    const cases: [number, string][] = [[0, '0s'], [1, '1ns'], [1500, '1.5µs'], [1e6, '1ms'], [2e8, '200ms'], [1e9, '1s'], [1.5e9, '1.5s'], [30e9, '30s'], [60e9, '1m0s'], [90e9, '1m30s'], [3600e9, '1h0m0s'], [3725.5e9, '1h2m5.5s'], [-2e9, '-2s']];
    for (const [ns, text] of cases) assert.equal(goDuration(ns), text, `${ns}`);
  });
});
