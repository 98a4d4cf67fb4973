import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgs, type FlagSpec } from '../../src/cli/args.js';
import { UsageError } from '../../src/cli/errors.js';

const SPECS: FlagSpec[] = [
  { name: 'detach', short: 'd', type: 'bool', help: '' },
  { name: 'interactive', short: 'i', type: 'bool', help: '' },
  { name: 'tty', short: 't', type: 'bool', help: '' },
  { name: 'name', type: 'string', help: '' },
  { name: 'driver', short: 'D', type: 'string', default: 'bridge', help: '' },
  { name: 'env', short: 'e', type: 'list', help: '' },
  { name: 'subnet', type: 'list', split: true, help: '' },
  { name: 'time', short: 'T', type: 'int', help: '' },
  { name: 'filter', short: 'f', type: 'list', help: '', validate: (v) => {
    if (!v.includes('=')) throw new Error('bad format of filter (expected name=value)');
    return v.toLowerCase();
  } },
];

function usageError(fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => e instanceof UsageError && e.message === message);
}

test('long flags with = and with a separate value', () => {
  const r = parseArgs(SPECS, ['--name=web', '--driver', 'macvlan', 'x']);
  assert.equal(r.flags.string('name'), 'web');
  assert.equal(r.flags.string('driver'), 'macvlan');
  assert.deepEqual(r.args, ['x']);
});

test('defaults apply when a flag is absent; changed() tells them apart', () => {
  const r = parseArgs(SPECS, []);
  assert.equal(r.flags.string('driver'), 'bridge');
  assert.equal(r.flags.changed('driver'), false);
  assert.equal(r.flags.optString('name'), undefined);
  assert.equal(r.flags.bool('tty'), false);
  assert.deepEqual(r.flags.list('env'), []);
});

test('combined short booleans and a short flag with its value attached', () => {
  const r = parseArgs(SPECS, ['-dit', '-Dipvlan', '-T=5', '-e', 'A=1']);
  assert.equal(r.flags.bool('detach'), true);
  assert.equal(r.flags.bool('interactive'), true);
  assert.equal(r.flags.bool('tty'), true);
  assert.equal(r.flags.string('driver'), 'ipvlan');
  assert.equal(r.flags.int('time'), 5);
  assert.deepEqual(r.flags.list('env'), ['A=1']);
});

test('a short string flag last in a group takes the next argument', () => {
  const r = parseArgs(SPECS, ['-itD', 'host']);
  assert.equal(r.flags.string('driver'), 'host');
  assert.equal(r.flags.bool('tty'), true);
});

test('booleans take =false, not a following word', () => {
  const r = parseArgs(SPECS, ['--detach=false', '--tty', 'word']);
  assert.equal(r.flags.bool('detach'), false);
  assert.equal(r.flags.changed('detach'), true);
  assert.equal(r.flags.bool('tty'), true);
  assert.deepEqual(r.args, ['word']);
  usageError(() => parseArgs(SPECS, ['--tty=maybe']), 'invalid argument "maybe" for "-t, --tty" flag: strconv.ParseBool: parsing "maybe": invalid syntax');
});

test('repeatable lists keep order; split lists split on commas', () => {
  const r = parseArgs(SPECS, ['-e', 'A=1', '--env=B=2', '--subnet', '10.0.0.0/24,10.1.0.0/24', '--subnet=fd00::/64']);
  assert.deepEqual(r.flags.list('env'), ['A=1', 'B=2']);
  assert.deepEqual(r.flags.list('subnet'), ['10.0.0.0/24', '10.1.0.0/24', 'fd00::/64']);
});

test('validators normalise values and their errors name the flag', () => {
  assert.deepEqual(parseArgs(SPECS, ['-f', 'Driver=X']).flags.list('filter'), ['driver=x']);
  usageError(
    () => parseArgs(SPECS, ['--filter', 'nope']),
    'invalid argument "nope" for "-f, --filter" flag: bad format of filter (expected name=value)',
  );
});

test('-- ends the flags', () => {
  const r = parseArgs(SPECS, ['-d', '--', '-t', '--name=x']);
  assert.equal(r.flags.bool('tty'), false);
  assert.deepEqual(r.args, ['-t', '--name=x']);
});

test('interspersed parsing continues after positionals; non-interspersed stops at the first', () => {
  const mixed = parseArgs(SPECS, ['a', '-d', 'b']);
  assert.deepEqual(mixed.args, ['a', 'b']);
  assert.equal(mixed.flags.bool('detach'), true);
  const run = parseArgs(SPECS, ['-it', 'busybox', 'ls', '-d', '--name', 'x'], { interspersed: false });
  assert.deepEqual(run.args, ['busybox', 'ls', '-d', '--name', 'x']);
  assert.equal(run.flags.bool('detach'), false);
});

test('a lone dash is an argument', () => {
  assert.deepEqual(parseArgs(SPECS, ['-']).args, ['-']);
});

test('a string flag takes the next argument even if it looks like a flag (as pflag does)', () => {
  assert.equal(parseArgs(SPECS, ['--name', '--tty']).flags.string('name'), '--tty');
});

test('pflag error messages', () => {
  usageError(() => parseArgs(SPECS, ['--foo']), 'unknown flag: --foo');
  usageError(() => parseArgs(SPECS, ['-dz']), "unknown shorthand flag: 'z' in -dz");
  usageError(() => parseArgs(SPECS, ['--name']), 'flag needs an argument: --name');
  usageError(() => parseArgs(SPECS, ['-e']), "flag needs an argument: 'e' in -e");
  usageError(() => parseArgs(SPECS, ['--time', 'x']), 'invalid argument "x" for "-T, --time" flag: strconv.ParseInt: parsing "x": invalid syntax');
  usageError(() => parseArgs(SPECS, ['---x']), 'bad flag syntax: ---x');
});

test('usage errors carry exit status 125 and the command for the help hint', () => {
  try {
    parseArgs(SPECS, ['--foo'], { commandPath: 'berth network ls' });
    assert.fail('expected an error');
  } catch (e: unknown) {
    assert.ok(e instanceof UsageError);
    assert.equal(e.status, 125);
    assert.equal(e.commandPath, 'berth network ls');
  }
});

test('--help and -h request help; -h is free for commands that use it', () => {
  assert.equal(parseArgs(SPECS, ['--help']).help, true);
  assert.equal(parseArgs(SPECS, ['-h']).help, true);
  const withH: FlagSpec[] = [{ name: 'hostname', short: 'h', type: 'string', help: '' }];
  const r = parseArgs(withH, ['-h', 'box']);
  assert.equal(r.help, false);
  assert.equal(r.flags.string('hostname'), 'box');
});

test('reading a flag with the wrong type or an undeclared name is a programming error', () => {
  const r = parseArgs(SPECS, []);
  assert.throws(() => r.flags.bool('name'));
  assert.throws(() => r.flags.string('nope'));
});
