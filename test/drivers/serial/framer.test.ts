import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LineFramer } from '../../../drivers/serial/framer.js';

function frame(delim: string, max: number, chunks: Buffer[]) {
  const lines: string[] = [];
  const overlong: number[] = [];
  const f = new LineFramer(Buffer.from(delim), max, {
    line: (b, s, e) => lines.push(b.toString('latin1', s, e)),
    overlong: (n) => overlong.push(n),
  });
  for (const c of chunks) f.push(c);
  return { lines, overlong, pending: f.pending };
}

/** Cut a buffer at the given (sorted, deduplicated) positions. */
function cut(buf: Buffer, at: number[]): Buffer[] {
  const pos = [...new Set(at.map((p) => p % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of pos) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

test('framer: lines on \\n; a trailing \\r is stripped so CRLF devices work too', () => {
  const r = frame('\n', 100, [Buffer.from('a=1\r\nb=2\nc=')]);
  assert.deepEqual(r.lines, ['a=1', 'b=2']);
  assert.equal(r.pending, 2);
});

test('framer: a two-byte delimiter split across reads', () => {
  const r = frame('\r\n', 100, [Buffer.from('abc\r'), Buffer.from('\ndef\r'), Buffer.from('\n')]);
  assert.deepEqual(r.lines, ['abc', 'def']);
});

test('framer: with \\r\\n as delimiter a lone \\n is part of the line', () => {
  assert.deepEqual(frame('\r\n', 100, [Buffer.from('a\nb\r\n')]).lines, ['a\nb']);
});

test('framer: over-long lines are dropped up to the next delimiter, counted once, and the next line survives', () => {
  // In one read, and spread over many reads (longer than the whole internal buffer).
  const long = 'x'.repeat(20_000);
  const one = frame('\n', 16, [Buffer.from(`ok\n${long}\nnext\n`)]);
  assert.deepEqual(one.lines, ['ok', 'next']);
  assert.equal(one.overlong.length, 1);
  assert.ok(one.overlong[0] > 16);
  const many = frame('\r\n', 16, cut(Buffer.from(`${long}\r\nnext\r\n`), [5, 4000, 4999, 20_001, 20_002]));
  assert.deepEqual(many.lines, ['next']);
  assert.equal(many.overlong.length, 1);
  // Exactly at the limit is fine; one more byte is not.
  const edge = frame('\n', 4, [Buffer.from('1234\n12345\n')]);
  assert.deepEqual(edge.lines, ['1234']);
  assert.deepEqual(edge.overlong, [5]);
  // Never a delimiter (wrong delimiter setting): reported as soon as the limit is passed.
  const flood = frame('\n', 16, [Buffer.from('x'.repeat(10)), Buffer.from('x'.repeat(10))]);
  assert.deepEqual(flood.overlong, [20]);
  assert.equal(flood.pending, 0);
});

test('framer: any chunking gives the same lines as splitting the whole stream (property)', () => {
  fc.assert(
    fc.property(
      fc.constantFrom('\n', '\r\n', '|#'),
      fc.array(fc.stringMatching(/^[a-z0-9=#| \r]{0,40}$/), { maxLength: 30 }),
      fc.array(fc.nat(), { maxLength: 20 }),
      (delim, parts, cuts) => {
        const max = 24;
        const text = parts.join(delim) + delim;
        const raw = text.split(delim).slice(0, -1);
        const expected = raw.filter((l) => l.length <= max).map((l) => (delim === '\n' && l.endsWith('\r') ? l.slice(0, -1) : l));
        const r = frame(delim, max, cut(Buffer.from(text, 'latin1'), cuts));
        assert.deepEqual(r.lines, expected);
        assert.equal(r.overlong.length, raw.filter((l) => l.length > max).length);
        assert.equal(r.pending, 0);
      },
    ),
    { numRuns: 500 },
  );
});
