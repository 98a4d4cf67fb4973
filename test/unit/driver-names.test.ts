/**
 * What differs between network drivers is data on the driver (its capabilities), never
 * a test of its name elsewhere: a new driver then touches only its own folder and the
 * registry. This scans the daemon's sources for a driver name compared outside
 * src/network/drivers/ (the CLI is a client of the wire format and is left out).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const NAMES = '(?:bridge|host|null|macvlan|ipvlan|overlay)';
const COMPARISONS = [
  // driver === 'bridge', record.driver !== "null", Driver == 'host'
  new RegExp(`driver\\b[\\w.?]*\\s*[!=]==?\\s*['"\`]${NAMES}['"\`]`, 'i'),
  // 'bridge' === net.driver
  new RegExp(`['"\`]${NAMES}['"\`]\\s*[!=]==?\\s*[\\w.?]*driver\\b`, 'i'),
  // ['host', 'null'].includes(req.driver)
  new RegExp(`\\[[^\\]]*['"\`]${NAMES}['"\`][^\\]]*\\]\\.includes\\([^)]*driver`, 'i'),
  // switch (net.driver) { case 'bridge': …
  /switch\s*\([^)]*driver[^)]*\)/i,
];

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Lines of `text` that compare a driver's name. */
export function driverNameComparisons(text: string): string[] {
  return text.split('\n').filter((line) => COMPARISONS.some((re) => re.test(line)));
}

describe('driver names', () => {
  it('recognises the comparisons it forbids, and not mere mentions', () => {
    assert.equal(driverNameComparisons("if (net.record.driver === 'bridge') x();").length, 1);
    assert.equal(driverNameComparisons("const ok = 'null' !== r.driver;").length, 1);
    assert.equal(driverNameComparisons("if (['host', 'null'].includes(req.driver)) {").length, 1);
    assert.equal(driverNameComparisons('switch (record.driver) {').length, 1);
    assert.equal(driverNameComparisons("await this.add({ name: 'none', driver: 'null' }, true);").length, 0);
    assert.equal(driverNameComparisons("if (net.capabilities.reportsPorts) ports();").length, 0);
  });

  it('are compared nowhere in src outside network/drivers/ and the CLI', () => {
    const src = path.join(REPO, 'src');
    const allowed = [path.join(src, 'network', 'drivers'), path.join(src, 'cli')];
    const found = sources(src)
      .filter((f) => !allowed.some((a) => f.startsWith(a + path.sep)))
      .flatMap((f) => driverNameComparisons(fs.readFileSync(f, 'utf8')).map((l) => `${path.relative(REPO, f)}: ${l.trim()}`));
    assert.deepEqual(found, []);
  });
});
