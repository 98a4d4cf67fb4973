import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Template, TemplateError } from '../../src/util/template/exec.js';
import { sprintf } from '../../src/util/template/funcs.js';
import { strict } from '../../src/util/template/values.js';

const render = (src: string, data: unknown): string => Template.parse(src).execute(data);

const NET = {
  Name: 'web',
  Id: 'abc123',
  Labels: { 'com.example.team': 'blue', env: 'prod' },
  IPAM: { Driver: 'default', Config: [{ Subnet: '10.1.0.0/24', Gateway: '10.1.0.1' }, { Subnet: 'fd00::/64' }] },
  Containers: { c2: { Name: 'two', IPv4Address: '10.1.0.3/24' }, c1: { Name: 'one', IPv4Address: '10.1.0.2/24' } },
  Internal: false,
  EnableIPv6: true,
  Options: {},
};

test('fields and nested fields', () => {
  assert.equal(render('{{.Name}} {{.IPAM.Driver}}', NET), 'web default');
  assert.equal(render('plain text', NET), 'plain text');
});

test('field names match case-insensitively when there is no exact match (Go name vs JSON name)', () => {
  assert.equal(render('{{.ID}}', NET), 'abc123');
});

test('missing map keys print <no value>; strict objects report the field', () => {
  assert.equal(render('{{.Nope}}', NET), '<no value>');
  assert.throws(
    () => render('{{.Nmae}}', strict({ Name: 'x' })),
    (e: unknown) => e instanceof TemplateError && /can't evaluate field Nmae/.test(e.message),
  );
});

test('json of the whole item and of a field', () => {
  assert.equal(render('{{json .Labels}}', NET), '{"com.example.team":"blue","env":"prod"}');
  assert.equal(render('{{json .}}', { A: 1, B: [true] }), '{"A":1,"B":[true]}');
  assert.equal(render('{{json .Name}}', NET), '"web"');
});

test('index into maps and lists', () => {
  assert.equal(render('{{index .Labels "com.example.team"}}', NET), 'blue');
  assert.equal(render('{{index .Labels "absent"}}|', NET), '|');
  assert.equal(render('{{(index .IPAM.Config 1).Subnet}}', NET), 'fd00::/64');
  assert.equal(render('{{index .IPAM.Config 0 | json}}', NET), '{"Subnet":"10.1.0.0/24","Gateway":"10.1.0.1"}');
});

test('range over lists, with and without variables, and {{else}} for empty', () => {
  assert.equal(render('{{range .IPAM.Config}}{{.Subnet}};{{end}}', NET), '10.1.0.0/24;fd00::/64;');
  assert.equal(render('{{range $i, $c := .IPAM.Config}}{{$i}}={{$c.Subnet}} {{end}}', NET), '0=10.1.0.0/24 1=fd00::/64 ');
  assert.equal(render('{{range $c := .IPAM.Config}}{{$c.Subnet}} {{end}}', NET), '10.1.0.0/24 fd00::/64 ');
  assert.equal(render('{{range .Missing}}x{{else}}none{{end}}', NET), 'none');
});

test('range over maps goes in key order', () => {
  assert.equal(render('{{range $k, $v := .Labels}}{{$k}}={{$v}},{{end}}', NET), 'com.example.team=blue,env=prod,');
  assert.equal(render('{{range .Containers}}{{.Name}} {{end}}', NET), 'one two ');
});

test('if / else if / else, with truthiness of Go', () => {
  const t = '{{if .Internal}}internal{{else if .EnableIPv6}}v6{{else}}plain{{end}}';
  assert.equal(render(t, NET), 'v6');
  assert.equal(render(t, { Internal: true }), 'internal');
  assert.equal(render(t, {}), 'plain');
  assert.equal(render('{{if .Options}}opts{{else}}no opts{{end}}', NET), 'no opts');
  assert.equal(render('{{if .Labels}}labels{{end}}', NET), 'labels');
});

test('with rebinds dot', () => {
  assert.equal(render('{{with .IPAM}}{{.Driver}}{{end}}', NET), 'default');
  assert.equal(render('{{with .Nope}}x{{else}}empty{{end}}', NET), 'empty');
});

test('$ is the root inside range', () => {
  assert.equal(render('{{range .IPAM.Config}}{{$.Name}}:{{.Subnet}} {{end}}', NET), 'web:10.1.0.0/24 web:fd00::/64 ');
});

test('variables: declare, assign, scope', () => {
  assert.equal(render('{{$n := .Name}}{{$n}}-{{$n = "x"}}{{$n}}', NET), 'web-x');
  assert.throws(() => render('{{range .IPAM.Config}}{{$s := .Subnet}}{{end}}{{$s}}', NET), TemplateError);
});

test('pipes pass the value as the last argument', () => {
  assert.equal(render('{{.Name | upper}}', NET), 'WEB');
  assert.equal(render('{{.Name | printf "%s!"}}', NET), 'web!');
  assert.equal(render('{{.Labels | len}}', NET), '2');
});

test("docker's extra functions", () => {
  assert.equal(render('{{join .L ","}}', { L: ['a', 'b'] }), 'a,b');
  assert.equal(render('{{range split .S ":"}}[{{.}}]{{end}}', { S: 'a:b' }), '[a][b]');
  assert.equal(render('{{lower "AbC"}} {{title "hello world"}}', {}), 'abc Hello World');
  assert.equal(render('{{truncate .Id 3}}|{{pad "x" 1 2}}|', NET), 'abc| x  |');
});

test('comparisons and logic', () => {
  assert.equal(render('{{if eq .Name "web" "db"}}y{{end}}', NET), 'y');
  assert.equal(render('{{if ne .Name "web"}}y{{else}}n{{end}}', NET), 'n');
  assert.equal(render('{{if and .EnableIPv6 (not .Internal)}}y{{end}}', NET), 'y');
  assert.equal(render('{{or .Nope "fallback"}}', NET), 'fallback');
  assert.equal(render('{{if gt (len .IPAM.Config) 1}}many{{end}}', NET), 'many');
});

test('methods on formatting contexts take arguments', () => {
  const row = { Label: (k: unknown): string => (k === 'env' ? 'prod' : '') };
  assert.equal(render('{{.Label "env"}}', row), 'prod');
});

test('Go printing of lists, maps, nil and booleans', () => {
  assert.equal(render('{{.L}} {{.M}} {{.N}} {{.B}}', { L: ['a', 1], M: { b: 2, a: 1 }, N: null, B: false }), '[a 1] map[a:1 b:2] <nil> false');
});

test('trim markers and comments', () => {
  assert.equal(render('a  {{- .Name -}}  b', NET), 'awebb');
  assert.equal(render('x {{/* note */}}y', NET), 'x y');
  assert.equal(render('x {{- /* note */ -}} y', NET), 'xy');
  assert.equal(render('{{-3}}', {}), '-3');
});

test('strings: Go escapes and raw strings', () => {
  assert.equal(render('{{"a\\tb"}}|{{`raw\\t`}}', {}), 'a\tb|raw\\t');
});

test('parse errors: unknown function, unclosed action, stray end', () => {
  assert.throws(() => Template.parse('{{nosuch .X}}'), /function "nosuch" not defined/);
  assert.throws(() => Template.parse('{{.X'), /unclosed action/);
  assert.throws(() => Template.parse('{{end}}'), /unexpected/);
  assert.throws(() => Template.parse('{{if .X}}a'), /unexpected EOF/);
});

test('execution errors name the failing command', () => {
  assert.throws(() => render('{{.Name.First}}', NET), /executing "" at <\.Name\.First>: can't evaluate field First in type string/);
  assert.throws(() => render('{{index .Name 1 2}}', NET), /error calling index/);
});

test('printf subset', () => {
  assert.equal(sprintf('%-5s|%5s|%03d|%q|%v|%t|%x', ['ab', 'cd', 7, 'q', [1, 2], true, 255]), 'ab   |   cd|007|"q"|[1 2]|true|ff');
  assert.equal(sprintf('%s %s', ['a']), 'a %!s(MISSING)');
  assert.equal(sprintf('100%%', []), '100%');
});
