import fs from 'node:fs';

/**
 * SPEC "Operation": the config file is at most 1 MiB. Checked before parsing, because a 50 MB
 * YAML document (or /dev/zero) exhausts the unit's 96 MiB heap and the daemon dies with
 * "heap out of memory" instead of a line an operator can act on.
 */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** Reads at most `max` bytes; a longer file throws EFBIG with a one-line message naming it. */
export function readBounded(file: string, max: number): string {
  const fd = fs.openSync(file, 'r');
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (st.isFile() && st.size > max) throw tooBig(file, st.size, max);
    // Not a regular file (a pipe, a device): read up to max + 1 bytes to tell.
    const buf = Buffer.allocUnsafe(Math.min(max + 1, st.isFile() ? st.size + 1 : max + 1));
    let n = 0;
    for (;;) {
      const r = fs.readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
      if (n > max) throw tooBig(file, undefined, max);
      if (n === buf.length) break;
    }
    return buf.toString('utf8', 0, n);
  } finally {
    fs.closeSync(fd);
  }
}

function tooBig(file: string, size: number | undefined, max: number): Error {
  const what = size === undefined ? 'is larger than' : `is ${size} bytes, more than`;
  return Object.assign(new Error(`${file} ${what} the 1 MiB a config file may have (${max} bytes): is it the right file?`), { code: 'EFBIG' });
}

/**
 * "no such file or directory" from "ENOENT: no such file or directory, open '/x'": the caller
 * names the file and the key, so neither the code nor the path is repeated (the old output
 * said `EACCES: EACCES: permission denied, ...`).
 */
export function describeFsError(e: NodeJS.ErrnoException): string {
  const m = e.message ?? String(e);
  const stripped = e.code && m.startsWith(`${e.code}: `) ? m.slice(e.code.length + 2) : m;
  return stripped.replace(/, \w+ '[^']*'$/, '');
}
