import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NETWORK_FORMAT, networkRow } from '../../src/cli/commands/network/ls.js';
import { goTimeString, naturalCompare } from '../../src/cli/commands/common.js';
import { CliError } from '../../src/cli/errors.js';
import { renderInspect, renderList, shortId } from '../../src/cli/format.js';
import { tabwrite } from '../../src/cli/tabwriter.js';

const ID1 = 'f2de39df4171b0dc801e8002d1d999b77256983dfc63041c0f34030aa3977566';
const ID2 = '0c8f1a1e3c5f4d7e9a2b6c8d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b';

const rows = (noTrunc = false): object[] => [
  networkRow({ Id: ID1, Name: 'bridge', Driver: 'bridge', Scope: 'local', Labels: {} }, noTrunc),
  networkRow({ Id: ID2, Name: 'my-long-network-name', Driver: 'macvlan', Scope: 'local', Labels: { a: '1', b: '2' } }, noTrunc),
];

test('tabwriter pads cells to the widest plus padding, with a minimum width', () => {
  assert.equal(tabwrite('A\tBB\tC\nxxxxxxxxxxxx\ty\tz\n'), 'A              BB        C\nxxxxxxxxxxxx   y         z\n');
});

test('tabwriter: lines without tabs end a column block', () => {
  const text = 'Client:\n Version:\t1\nServer:\n  Version:\t2\n';
  assert.equal(tabwrite(text, { minWidth: 20, padding: 1 }), 'Client:\n Version:           1\nServer:\n  Version:          2\n');
});

test('default network table: docker columns, 12-char IDs, three spaces between columns', () => {
  const out = renderList(rows(), '', false, NETWORK_FORMAT);
  assert.equal(
    out,
    [
      'NETWORK ID     NAME                   DRIVER    SCOPE',
      'f2de39df4171   bridge                 bridge    local',
      '0c8f1a1e3c5f   my-long-network-name   macvlan   local',
      '',
    ].join('\n'),
  );
});

test('an empty list still prints the header', () => {
  assert.equal(renderList([], '', false, NETWORK_FORMAT), 'NETWORK ID   NAME      DRIVER    SCOPE\n');
});

test('-q prints IDs; --no-trunc keeps them whole', () => {
  assert.equal(renderList(rows(), '', true, NETWORK_FORMAT), `${ID1.slice(0, 12)}\n${ID2.slice(0, 12)}\n`);
  assert.equal(renderList(rows(true), '', true, NETWORK_FORMAT), `${ID1}\n${ID2}\n`);
});

test('a custom template prints one line per item, \\t and \\n escapes honoured', () => {
  assert.equal(renderList(rows(), '{{.Name}}\\t{{.Driver}}', false, NETWORK_FORMAT), 'bridge\tbridge\nmy-long-network-name\tmacvlan\n');
});

test('table TEMPLATE makes a header from the column titles', () => {
  const out = renderList(rows(), 'table {{.Name}}\\t{{.Labels}}\\t{{.Label "a"}}', false, NETWORK_FORMAT);
  assert.equal(out, ['NAME                   LABELS    LABEL', 'bridge                           ', 'my-long-network-name   a=1,b=2   1', ''].join('\n'));
});

test('json format: one object per line without methods', () => {
  const out = renderList(rows().slice(0, 1), 'json', false, NETWORK_FORMAT);
  const parsed: unknown = JSON.parse(out);
  assert.deepEqual(parsed, {
    ID: ID1.slice(0, 12),
    Name: 'bridge',
    Driver: 'bridge',
    Scope: 'local',
    IPv6: 'false',
    Internal: 'false',
    Labels: '',
    CreatedAt: '',
  });
});

test('raw format', () => {
  const out = renderList(rows().slice(0, 1), 'raw', false, NETWORK_FORMAT);
  assert.equal(out, `network_id: ${ID1.slice(0, 12)}\nname: bridge\ndriver: bridge\nscope: local\n\n`);
});

test('a typo in a field is an error, as with docker', () => {
  assert.throws(() => renderList(rows(), '{{.Nmae}}', false, NETWORK_FORMAT), (e: unknown) => e instanceof CliError && /can't evaluate field Nmae/.test(e.message));
  assert.throws(() => renderList(rows(), '{{.Name', false, NETWORK_FORMAT), /^CliError: template parsing error: /);
});

test('inspect output: a 4-space indented JSON array, or a template per item', () => {
  assert.equal(renderInspect([], ''), '[]\n');
  assert.equal(renderInspect([{ Name: 'a', IPAM: { Config: [] } }], ''), '[\n    {\n        "Name": "a",\n        "IPAM": {\n            "Config": []\n        }\n    }\n]\n');
  assert.equal(renderInspect([{ Name: 'a' }, { Name: 'b' }], '{{.Name}}'), 'a\nb\n');
});

test('helpers: short IDs, Go time strings, natural order', () => {
  assert.equal(shortId(`sha256:${ID1}`), ID1.slice(0, 12));
  assert.equal(goTimeString('2024-03-01T10:20:30.123400Z'), '2024-03-01 10:20:30.1234 +0000 UTC');
  assert.equal(goTimeString('2024-03-01T10:20:30+02:00'), '2024-03-01 10:20:30 +0200 +0200');
  assert.deepEqual(['net10', 'net2', 'bridge', 'net1'].sort(naturalCompare), ['bridge', 'net1', 'net2', 'net10']);
});
