import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** A capture kept in the repository under test/fixtures/ (provenance in its folder's README). */
export function fixture(...rel: string[]): string {
  const p = path.join(REPO, 'test', 'fixtures', ...rel);
  if (!fs.existsSync(p)) throw new Error(`fixture ${rel.join('/')} not found at ${p}`);
  return p;
}

/** The NMEA sentences of the GlobalSat BU-353-S4 capture (header comments dropped). */
export function nmeaCapture(): string[] {
  const file = fixture('nmea', 'globalsat-bu353s4.nmea');
  return fs.readFileSync(file, 'latin1').split(/\r?\n/).filter((l) => l.startsWith('$'));
}

/** Same sentence, checksum off by one bit: what line noise does to a real sentence. */
export function corruptChecksum(sentence: string): string {
  const star = sentence.lastIndexOf('*');
  const sum = parseInt(sentence.slice(star + 1, star + 3), 16) ^ 0x01;
  return sentence.slice(0, star + 1) + sum.toString(16).toUpperCase().padStart(2, '0');
}
