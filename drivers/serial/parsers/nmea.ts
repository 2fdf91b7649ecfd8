import { z } from 'zod';
import { excerpt, type LineParser, type PointSink } from './types.js';

/**
 * `parse: nmea`: NMEA 0183 from GPS receivers. The checksum is verified (bad or, by default,
 * missing ones are rejected and counted). GGA gives latitude, longitude, altitude (m above
 * mean sea level), fix_quality (0 none, 1 GPS, 2 DGPS, 4 RTK fixed, ...), satellites, hdop;
 * RMC gives latitude, longitude, speed (m/s) and course (degrees true) while its status is A.
 * Any talker (GP, GN, GL, GA, BD) is accepted; other sentences (GSA, GSV, ...) are ignored.
 */
export const nmeaOptions = z.strictObject({
  requireChecksum: z.boolean().default(true),
});
export type NmeaOptions = z.output<typeof nmeaOptions>;

export const NMEA_POINTS = ['latitude', 'longitude', 'altitude', 'fix_quality', 'satellites', 'hdop', 'speed', 'course'] as const;

const KNOT_MS = 1852 / 3600;

/** Verify `$...*HH`: XOR of every byte between the start mark and '*'. */
export function nmeaChecksumOk(s: string, star: number): boolean {
  if (star < 0 || star + 3 > s.length) return false;
  let x = 0;
  for (let i = 1; i < star; i++) x ^= s.charCodeAt(i);
  const want = parseInt(s.slice(star + 1, star + 3), 16);
  return !Number.isNaN(want) && want === x;
}

/** ddmm.mmmm / dddmm.mmmm plus hemisphere -> signed decimal degrees; NaN when absent. */
function coord(v: string, hemi: string, degDigits: number): number {
  if (v.length < degDigits + 2) return NaN;
  const deg = Number(v.slice(0, degDigits));
  const min = Number(v.slice(degDigits));
  const d = deg + min / 60;
  if (hemi === 'S' || hemi === 'W') return -d;
  return hemi === 'N' || hemi === 'E' ? d : NaN;
}

function num(v: string | undefined): number {
  return v === undefined || v === '' ? NaN : Number(v);
}

function emitIfFinite(out: PointSink, name: string, v: number): void {
  if (Number.isFinite(v)) out(name, v);
}

export function createNmeaParser(opts: NmeaOptions): LineParser {
  return {
    points: NMEA_POINTS,
    parse(raw, out) {
      const line = raw.trim();
      const c0 = line.charCodeAt(0);
      if (c0 !== 0x24 /* $ */ && c0 !== 0x21 /* ! */) return { kind: 'no-match', message: `not an NMEA sentence: ${excerpt(raw)}` };
      const star = line.lastIndexOf('*');
      if (star === -1) {
        if (opts.requireChecksum) return { kind: 'checksum', message: `NMEA sentence without checksum: ${excerpt(raw)}` };
      } else if (!nmeaChecksumOk(line, star) || star + 3 !== line.length) {
        return { kind: 'checksum', message: `NMEA checksum mismatch: ${excerpt(raw)}` };
      }
      const f = line.slice(1, star === -1 ? line.length : star).split(',');
      const type = f[0].slice(-3);
      if (type === 'GGA') {
        const fix = num(f[6]);
        if (!Number.isFinite(fix)) return { kind: 'parse', message: `GGA without fix quality: ${excerpt(raw)}` };
        out('fix_quality', fix);
        emitIfFinite(out, 'satellites', num(f[7]));
        if (fix > 0) {
          emitIfFinite(out, 'latitude', coord(f[2], f[3], 2));
          emitIfFinite(out, 'longitude', coord(f[4], f[5], 3));
          emitIfFinite(out, 'altitude', num(f[9]));
          emitIfFinite(out, 'hdop', num(f[8]));
        }
      } else if (type === 'RMC') {
        if (f[2] !== 'A') return undefined; // V: receiver warning, no valid fix to report
        emitIfFinite(out, 'latitude', coord(f[3], f[4], 2));
        emitIfFinite(out, 'longitude', coord(f[5], f[6], 3));
        emitIfFinite(out, 'speed', num(f[7]) * KNOT_MS);
        emitIfFinite(out, 'course', num(f[8]));
      }
      return undefined;
    },
  };
}
