import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandWord, expandWords, nameValuePairs, rawWords } from '../../src/engine/build/substitute.js';

const vars = ['A=apple', 'EMPTY=', 'SP=two words', 'A=avocado'];

test('variables: $V, ${V}, ${V:-d}, ${V-d}, ${V:+x}, ${V+x}; the last definition wins', () => {
  assert.equal(expandWord('$A/${A}x', vars), 'avocado/avocadox');
  assert.equal(expandWord('${NOPE:-dflt} ${EMPTY:-dflt} ${EMPTY-dflt}', vars), 'dflt dflt ');
  assert.equal(expandWord('${A:+set} ${EMPTY:+set} ${EMPTY+set} ${NOPE+set}.', vars), 'set  set .');
  assert.equal(expandWord('${NOPE:-$A}', vars), 'avocado');
  assert.equal(expandWord('cost $5 and $', vars), 'cost $5 and $');
  assert.throws(() => expandWord('${A', vars), /missing '}'/);
  assert.throws(() => expandWord('${NOPE:?must be set}', vars), /NOPE: must be set/);
});

test('quotes and escapes: single quotes literal, double quotes expand, escapes', () => {
  assert.equal(expandWord(`'$A' "$A" \\$A`, vars), '$A avocado $A');
  assert.equal(expandWord('"a\\"b\\n"', vars), 'a"b\\n');
  assert.equal(expandWord('`$A', vars, '`'), '$A');
  assert.deepEqual(expandWords('one "two three" $SP \'\'', vars), ['one', 'two three', 'two', 'words', '']);
  assert.deepEqual(expandWords('$NOPE x$NOPE "$NOPE"', vars), ['x', '']);
  assert.throws(() => expandWords('"open', vars), /matching double-quote/);
});

test('raw words keep quotes; name=value pairs and the legacy form', () => {
  assert.deepEqual(rawWords('a="b c" d=\'e f\' g\\ h'), ['a="b c"', "d='e f'", 'g\\ h']);
  assert.deepEqual(nameValuePairs('ENV', 'X=$A Y="a b" Z=', vars), [['X', 'avocado'], ['Y', 'a b'], ['Z', '']]);
  assert.deepEqual(nameValuePairs('ENV', 'LEGACY value with $A', vars), [['LEGACY', 'value with avocado']]);
  assert.deepEqual(nameValuePairs('ARG', 'NAME', vars, '\\', false), [['NAME', undefined]]);
  assert.deepEqual(nameValuePairs('ARG', 'N=1 M', vars, '\\', false), [['N', '1'], ['M', undefined]]);
  assert.throws(() => nameValuePairs('ENV', 'ALONE', vars), /ENV must have two arguments/);
  assert.throws(() => nameValuePairs('LABEL', '=x', vars), /LABEL names can not be blank/);
  assert.throws(() => nameValuePairs('ENV', 'A=1 B', vars), /can't find = in "B"/);
});
