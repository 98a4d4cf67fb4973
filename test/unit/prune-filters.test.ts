import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { boolFilter, goBool, goDurationMs, parsePruneFilters, parseUntil } from '../../src/api/routes/prune-filters.js';
import { eventJson, parseTime } from '../../src/api/routes/events.js';

const old = { created: '2020-01-01T00:00:00Z', labels: { keep: 'yes', team: 'a' } };
const fresh = { created: new Date().toISOString(), labels: {} };

describe('prune filters', () => {
  it('refuses keys the endpoint does not accept, and two untils', () => {
    assert.throws(() => parsePruneFilters({ foo: ['bar'] }), /^.*invalid filter 'foo'$/);
    assert.throws(() => parsePruneFilters({ dangling: ['true'] }), /invalid filter 'dangling'/);
    assert.throws(() => parsePruneFilters({ until: ['1h', '2h'] }), /more than one until filter specified/);
    assert.throws(() => parsePruneFilters({ until: ['soon'] }), /failed to parse value as time or duration: "soon"/);
  });

  it('until: created at or before the time', () => {
    assert.equal(parsePruneFilters({ until: ['24h'] })(old), true);
    assert.equal(parsePruneFilters({ until: ['24h'] })(fresh), false);
    assert.equal(parsePruneFilters({ until: ['2020-01-01T00:00:00Z'] })(old), true);
    assert.equal(parsePruneFilters({ until: ['1577836799'] })(old), false);
    assert.equal(parsePruneFilters({ until: ['1h'] })({ created: undefined, labels: {} }), false);
  });

  it('label: all must hold; label!: pruned unless all hold', () => {
    assert.equal(parsePruneFilters({ label: ['keep', 'team=a'] })(old), true);
    assert.equal(parsePruneFilters({ label: ['keep', 'team=b'] })(old), false);
    assert.equal(parsePruneFilters({ label: ['keep'] })(fresh), false);
    assert.equal(parsePruneFilters({ 'label!': ['keep=yes'] })(old), false);
    assert.equal(parsePruneFilters({ 'label!': ['keep=yes', 'team=b'] })(old), true);
    assert.equal(parsePruneFilters({ 'label!': ['keep'] })(fresh), true);
  });

  it('Go durations, times and Unix seconds', () => {
    assert.equal(goDurationMs('1h30m'), 5_400_000);
    assert.equal(goDurationMs('1.5s'), 1500);
    assert.equal(goDurationMs('-2m'), -120_000);
    assert.equal(goDurationMs('10'), undefined);
    assert.equal(parseUntil('1700000000.5'), 1_700_000_000_500);
    assert.equal(parseUntil('0'), 0);
    assert.ok(Math.abs(parseUntil('10m') - (Date.now() - 600_000)) < 1000);
  });

  it('dangling and all read booleans as dockerd does', () => {
    assert.equal(boolFilter({}, 'dangling', true), true);
    assert.equal(boolFilter({ dangling: ['false'] }, 'dangling', true), false);
    assert.equal(boolFilter({ dangling: ['1'] }, 'dangling', false), true);
    assert.throws(() => boolFilter({ dangling: ['maybe'] }, 'dangling', true), /invalid filter 'dangling=\[maybe\]'/);
    assert.throws(() => boolFilter({ dangling: ['true', 'false'] }, 'dangling', true), /invalid filter 'dangling=\[true false\]'/);
    assert.equal(goBool('all', 'T'), true);
    assert.throws(() => goBool('all', 'yes'), /invalid filter 'all': strconv.ParseBool: parsing "yes": invalid syntax/);
  });
});

describe('GET /events parameters', () => {
  it('since and until: Unix seconds with an optional fraction, in nanoseconds', () => {
    assert.equal(parseTime('since', ''), undefined);
    assert.equal(parseTime('since', '0'), 0n);
    assert.equal(parseTime('since', '1700000000'), 1_700_000_000_000_000_000n);
    assert.equal(parseTime('since', '1700000000.5'), 1_700_000_000_500_000_000n);
    assert.equal(parseTime('since', '1700000000.0000000019'), 1_700_000_000_000_000_001n);
    assert.throws(() => parseTime('since', '10m'), /invalid value for 'since': invalid timestamp "10m": invalid seconds "10m": invalid syntax/);
    assert.throws(() => parseTime('until', '1.2x'), /invalid value for 'until': invalid timestamp "1.2x": invalid nanoseconds: invalid character 'x' at position 1/);
  });

  it('events carry the legacy status, id and from for containers and images, and an exact timeNano', () => {
    const m = { Type: 'container' as const, Action: 'die', Actor: { ID: 'c1', Attributes: { image: 'busybox', exitCode: '0' } }, scope: 'local' as const, time: 1796572548, timeNano: 1796572548074749876n };
    assert.equal(
      eventJson(m),
      '{"status":"die","id":"c1","from":"busybox","Type":"container","Action":"die","Actor":{"ID":"c1","Attributes":{"image":"busybox","exitCode":"0"}},"scope":"local","time":1796572548,"timeNano":1796572548074749876}',
    );
    assert.doesNotMatch(eventJson({ ...m, Type: 'network' }), /status/);
    assert.match(eventJson({ ...m, Type: 'image' }), /^\{"status":"die","id":"c1","Type"/);
  });
});
