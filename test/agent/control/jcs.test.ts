import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { canonicalJson } from '../../../agent/control/jcs.js';
import { have } from '../../helpers/system.js';

// Python's json.dumps(sort_keys=True, separators=(',', ':'), ensure_ascii=False) is what the SPEC
// names as the reference for configs of strings, integers and booleans.
const PY = have('/usr/bin/python3') ? '/usr/bin/python3' : have('python3') ? 'python3' : undefined;
const PY_DUMPS = `import json,sys
for o in json.load(sys.stdin):
    sys.stdout.write(json.dumps(o, sort_keys=True, separators=(',', ':'), ensure_ascii=False) + "\\n")`;

// Keys: BMP below the surrogates (where UTF-16 and code-point order agree); values: any Unicode.
const key = fc.string({ unit: fc.integer({ min: 0x01, max: 0xd7ff }).map((c) => String.fromCharCode(c)), maxLength: 6 });
const scalar = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), fc.boolean(), fc.constant(null));
const doc = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(key, tie('node'), { maxKeys: 5 })),
})).node;

test('canonical JSON: fixed cases (RFC 8785 ordering, escapes, no white space)', () => {
  assert.equal(canonicalJson({ b: 1, a: [true, false, null], c: { z: 'x', y: '' } }), '{"a":[true,false,null],"b":1,"c":{"y":"","z":"x"}}');
  assert.equal(canonicalJson({ '\u00e9': 1, e: 2, E: 3 }), '{"E":3,"e":2,"\u00e9":1}');
  assert.equal(canonicalJson('line\n"q"\\ \u0001 \u00fc \u20ac'), '"line\\n\\"q\\"\\\\ \\u0001 \u00fc \u20ac"');
  assert.equal(canonicalJson({ version: 3, config: { agent: { logLevel: 'debug' } } }), '{"config":{"agent":{"logLevel":"debug"}},"version":3}');
  assert.equal(canonicalJson({ a: undefined, b: 1 }), '{"b":1}');
  assert.throws(() => canonicalJson({ x: Number.NaN }), /non-finite/);
});

test('canonical JSON equals Python json.dumps(sort_keys, compact, ensure_ascii=False) on random documents', (t) => {
  if (!PY) {
    t.skip('no python3 on this machine: the Python equivalence cannot be checked here');
    return;
  }
  const samples = fc.sample(doc, { numRuns: 300, seed: 42 });
  const out = execFileSync(PY, ['-c', PY_DUMPS], { input: JSON.stringify(samples), encoding: 'utf8' }).split('\n');
  samples.forEach((s, i) => assert.equal(canonicalJson(s), out[i], `sample ${i}: ${JSON.stringify(s)}`));
});
