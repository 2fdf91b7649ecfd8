import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PtyPair, SKIP_REASON } from './pty.js';
import { startSource } from './make.js';
import { waitFor } from '../../helpers/source-context.js';
import { corruptChecksum, nmeaCapture } from './fixtures.js';

/**
 * The real BU-353-S4 capture (gpsd regression data). Its header states: fixes near 37.7846 S,
 * 175.3149 E, altitude ~60 m, 7-8 satellites, all checksums valid.
 */
test('NMEA capture through a pty gives the stated positions; corrupted checksums are counted and dropped', { skip: SKIP_REASON, timeout: 60_000 }, async () => {
  const sentences = nmeaCapture();
  const gga = sentences.filter((l) => l.slice(3, 6) === 'GGA').length;
  const rmc = sentences.filter((l) => l.slice(3, 6) === 'RMC').length;
  assert.ok(gga >= 10 && rmc >= 10, 'the capture has GGA and RMC sentences');

  const pty = await new PtyPair().start();
  const s = startSource({ port: pty.device, baudRate: 4800, delimiter: '\r\n', parse: 'nmea' });
  try {
    await s.driver.open();
    await waitFor(() => s.states.some((x) => x.state === 'ok'), 5000, 'port open');
    await pty.write(sentences.map((l) => l + '\r\n').join(''));
    await waitFor(() => s.readings.filter((r) => r.point === 'latitude').length === gga + rmc, 10_000, 'a position per GGA and RMC');
    assert.deepEqual(s.errors, [], 'all checksums of the capture are valid');

    const of = (p: string) => s.readings.filter((r) => r.point === p).map((r) => r.value as number);
    for (const lat of of('latitude')) assert.ok(Math.abs(lat - -37.7846) < 0.0005, `latitude ${lat}`);
    for (const lon of of('longitude')) assert.ok(Math.abs(lon - 175.3149) < 0.0005, `longitude ${lon}`);
    assert.equal(of('altitude').length, gga);
    for (const alt of of('altitude')) assert.ok(alt > 55 && alt < 65, `altitude ${alt}`);
    for (const n of of('satellites')) assert.ok(n >= 7 && n <= 8, `satellites ${n}`);
    assert.deepEqual([...new Set(of('fix_quality'))], [1]);
    assert.equal(of('speed').length, rmc);
    for (const v of of('speed')) assert.ok(v >= 0 && v < 2, `speed ${v} m/s (walking pace in the capture)`);
    // First fix exactly: 3747.0873 S, 17518.8938 E.
    assert.ok(Math.abs(of('latitude')[0] - -(37 + 47.0873 / 60)) < 1e-9);
    assert.ok(Math.abs(of('longitude')[0] - (175 + 18.8938 / 60)) < 1e-9);

    const before = s.readings.length;
    await pty.write(sentences.map((l) => corruptChecksum(l) + '\r\n').join(''));
    await pty.write(sentences[0] + '\r\n'); // a good one after the bad ones still parses
    await waitFor(() => s.readings.length > before, 10_000, 'the good sentence after the corrupted ones');
    assert.equal(s.count('checksum'), sentences.length);
    assert.equal((s.errors as unknown[]).length, sentences.length, 'nothing but checksum errors');
    assert.deepEqual(s.readings.slice(before).map((r) => r.point), ['fix_quality', 'satellites', 'latitude', 'longitude', 'altitude', 'hdop']);
  } finally {
    await s.driver.close();
    await pty.stop();
  }
});
