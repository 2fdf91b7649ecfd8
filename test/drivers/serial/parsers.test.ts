import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createParser, type LineParser } from '../../../drivers/serial/parsers/index.js';
import { nmeaChecksumOk } from '../../../drivers/serial/parsers/nmea.js';
import { parseConfigText } from '../../../agent/config/load.js';
import { serialConfig } from './make.js';
import { corruptChecksum, nmeaCapture } from './fixtures.js';

function run(p: LineParser, line: string) {
  const points: [string, unknown][] = [];
  const fail = p.parse(line, (k, v) => points.push([k, v]));
  return { points, fail };
}
const parserOf = (parse: unknown) => createParser(serialConfig({ port: '/dev/null', parse }).parse);

test('regex: named groups are points; numbers are numbers, other text stays text', () => {
  const p = parserOf({ regex: 'T=(?<temp>-?\\d+(\\.\\d+)?) H=(?<hum>\\d+(\\.\\d+)?)(?: S=(?<state>\\w+))?' });
  assert.deepEqual(p.points, ['temp', 'hum', 'state']);
  assert.deepEqual(run(p, 'T=-1.5 H=40 S=ok').points, [['temp', -1.5], ['hum', 40], ['state', 'ok']]);
  assert.deepEqual(run(p, 'T=2 H=3').points, [['temp', 2], ['hum', 3]], 'an optional group that did not match is no point');
  const miss = run(p, 'garbage');
  assert.equal(miss.fail?.kind, 'no-match');
  assert.match(miss.fail!.message, /"garbage"/);
});

test('kv: defaults, runs of spaces, custom separators, bad pairs counted', () => {
  const p = parserOf('kv');
  assert.deepEqual(run(p, '  T=21.5\tH=40   fw=v1.2 ').points, [['T', 21.5], ['H', 40], ['fw', 'v1.2']]);
  const half = run(p, 'T=1 junk H=2');
  assert.deepEqual(half.points, [['T', 1], ['H', 2]]);
  assert.equal(half.fail?.kind, 'parse');
  assert.equal(run(p, 'no pairs here').fail?.kind, 'no-match');
  const c = parserOf({ kv: { pairSeparator: ';', assign: ':' } });
  assert.deepEqual(run(c, 'a:1;b: 2 ;c:x').points, [['a', 1], ['b', 2], ['c', 'x']]);
  assert.deepEqual(run(c, 'a=1').fail?.kind, 'no-match');
});

test('json: keys are points, nested keys dotted, null skipped, non-objects rejected', () => {
  const p = parserOf('json');
  assert.deepEqual(run(p, '{"t":1.5,"on":false,"s":"x","n":null,"a":{"b":2},"l":[3]}').points, [['t', 1.5], ['on', false], ['s', 'x'], ['a.b', 2], ['l.0', 3]]);
  assert.equal(run(p, '[1,2]').fail?.kind, 'parse');
  assert.equal(run(p, '{"t":').fail?.kind, 'parse');
  const bad = run(p, '{"ok":1,"bad key":2}');
  assert.deepEqual(bad.points, [['ok', 1]]);
  assert.equal(bad.fail?.kind, 'parse');
});

test('nmea: checksum verified, GGA and RMC decoded, other sentences ignored', () => {
  const p = parserOf('nmea');
  const gga = '$GPGGA,030719.000,3747.0873,S,17518.8938,E,1,08,1.1,59.9,M,23.7,M,,0000*7D';
  assert.ok(nmeaChecksumOk(gga, gga.lastIndexOf('*')));
  const r = run(p, gga);
  assert.equal(r.fail, undefined);
  const m = Object.fromEntries(r.points);
  assert.ok(Math.abs((m.latitude as number) - -37.784788) < 1e-6);
  assert.ok(Math.abs((m.longitude as number) - 175.314897) < 1e-6);
  assert.deepEqual([m.altitude, m.satellites, m.fix_quality, m.hdop], [59.9, 8, 1, 1.1]);
  const rmc = Object.fromEntries(run(p, '$GPRMC,030720.000,A,3747.0875,S,17518.8938,E,1.15,181.39,311214,,,A*7B').points);
  assert.ok(Math.abs((rmc.speed as number) - 1.15 * 1852 / 3600) < 1e-9);
  assert.equal(rmc.course, 181.39);
  // GN talker (multi-constellation receivers), northern/western hemisphere.
  const gn = '$GNRMC,120000.00,A,5130.0000,N,00007.5000,W,0.0,,010125,,,A';
  const sum = [...gn.slice(1)].reduce((x, c) => x ^ c.charCodeAt(0), 0).toString(16).toUpperCase().padStart(2, '0');
  const g = Object.fromEntries(run(p, `${gn}*${sum}`).points);
  assert.equal(g.latitude, 51.5);
  assert.equal(g.longitude, -0.125);
  assert.equal('course' in g, false, 'empty field is no point');
  // No fix yet: fix_quality 0 and satellites only; RMC void gives nothing.
  const nofix = '$GPGGA,000000.000,,,,,0,00,,,M,,M,,';
  const ns = [...nofix.slice(1)].reduce((x, c) => x ^ c.charCodeAt(0), 0).toString(16).toUpperCase().padStart(2, '0');
  assert.deepEqual(run(p, `${nofix}*${ns}`).points, [['fix_quality', 0], ['satellites', 0]]);
  // GSV is valid but carries none of our points.
  assert.deepEqual(run(p, '$GPGSV,3,3,12,11,12,132,04,08,38,008,,02,35,348,,03,14,091,*73'), { points: [], fail: undefined });
});

test('nmea: every sentence of the real capture passes; with its checksum corrupted, every one fails as checksum', () => {
  const p = parserOf('nmea');
  const lines = nmeaCapture();
  for (const l of lines) assert.equal(run(p, l).fail, undefined, l);
  for (const l of lines) {
    const r = run(p, corruptChecksum(l));
    assert.equal(r.fail?.kind, 'checksum', l);
    assert.deepEqual(r.points, []);
  }
  // A corrupted payload (digit changed, checksum kept) is caught too.
  assert.equal(run(p, lines[0].replace('3747.0873', '3747.0874')).fail?.kind, 'checksum');
  assert.equal(run(p, '$GPGGA,1,2,3').fail?.kind, 'checksum', 'missing checksum rejected by default');
  assert.equal(run(parserOf({ nmea: { requireChecksum: false } }), '$GPGGA,030719.000,3747.0873,S,17518.8938,E,1,08,1.1,59.9,M,23.7,M,,0000').fail, undefined);
  assert.equal(run(p, 'hello').fail?.kind, 'no-match');
});

/** Config errors name the key path and the line:col (through the real loader). */
function errorsOf(source: string): string[] {
  const text = `uplink: { mqtt: { url: "mqtt://localhost" } }\nsources:\n  - id: s\n    driver: serial\n    port: /dev/ttyUSB0\n${source}`;
  const r = parseConfigText(text);
  return r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.message} @${e.line}`);
}

test('config: the SPEC shapes are accepted', () => {
  assert.deepEqual(errorsOf('    parse: nmea\n'), []);
  assert.deepEqual(errorsOf('    parse: { kv: { pairSeparator: " ", assign: "=" } }\n'), []);
  assert.deepEqual(errorsOf(`    delimiter: "\\r\\n"\n    parse: { regex: 'T=(?<temp>-?\\d+(\\.\\d+)?) H=(?<hum>\\d+(\\.\\d+)?)' }\n`), []);
  assert.deepEqual(errorsOf('    parse: json\n    query: { send: "R\\r", every: 2s, timeout: 500ms }\n'), []);
  // Single-quoted escapes mean the same as double-quoted ones.
  assert.equal(serialConfig({ port: 'x', parse: 'kv', delimiter: '\\r\\n' }).delimiter, '\r\n');
  assert.equal(serialConfig({ port: 'x', parse: 'kv' }).delimiter, '\n');
});

test('config: mistakes are errors naming the key path and line', () => {
  assert.deepEqual(errorsOf('    parse: xml\n'), ['sources[0].parse: unknown parser "xml": expected kv, json, nmea, or a mapping such as { regex: \'T=(?<temp>[\\d.]+)\' } or { kv: { pairSeparator: ",", assign: ":" } } @6']);
  assert.match(errorsOf('    parse: { regex: "(unclosed" }\n')[0], /^sources\[0\]\.parse\.regex: invalid regular expression: .* @6$/);
  assert.match(errorsOf('    parse: { regex: "T=(\\\\d+)" }\n')[0], /^sources\[0\]\.parse\.regex: needs at least one named group/);
  assert.deepEqual(errorsOf('    parse: { kv: { sep: "," } }\n'), ['sources[0].parse.kv.sep: unknown key "sep" @6']);
  assert.match(errorsOf('    parse: { kv: {}, json: {} }\n')[0], /^sources\[0\]\.parse: one parser per source, got kv, json/);
  assert.match(errorsOf('    foo: 1\n')[0], /^sources\[0\]\.parse: required/);
  assert.ok(errorsOf('    foo: 1\n    parse: kv\n').includes('sources[0].foo: unknown key "foo" @6'));
  assert.deepEqual(errorsOf('    parse: kv\n    query: { send: "R", every: 1s, timeout: 2s }\n'), ['sources[0].query.timeout: must be shorter than every (1000 ms) @7']);
  assert.deepEqual(errorsOf('    parse: kv\n    maxLineLength: 2\n'), ['sources[0].maxLineLength: must be at least 8 @7']);
});
