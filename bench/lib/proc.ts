import fs from 'node:fs';

/** Readings of another process from /proc: what `top` and `iotop` would show, without them. */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** utime+stime in ms (clock ticks are 100/s on Linux). */
export function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** Bytes the process caused to be written to storage (page cache writeback included). */
export function writeBytes(pid: number): number {
  const m = /write_bytes:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** RSS split: anonymous (heap, stacks, malloc) versus file-backed (the node binary's pages, shared and reclaimable). */
export function rssParts(pid: number): { anonMiB: number; fileMiB: number } {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? NaN) / 1024;
  return { anonMiB: kb('RssAnon'), fileMiB: kb('RssFile') };
}

/** Samples RSS every `everyMs` until stopped: mean and max, and the max of its anonymous part. */
export function sampleRss(pid: number, everyMs = 250): { stop(): { meanMiB: number; maxMiB: number; anonMaxMiB: number; fileMaxMiB: number } } {
  const xs: number[] = [];
  let anon = 0;
  let file = 0;
  const t = setInterval(() => {
    try {
      xs.push(rssMiB(pid));
      const p = rssParts(pid);
      anon = Math.max(anon, p.anonMiB);
      file = Math.max(file, p.fileMiB);
    } catch { /* process gone */ }
  }, everyMs);
  return {
    stop() {
      clearInterval(t);
      const mean = xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
      return { meanMiB: round(mean), maxMiB: round(Math.max(...xs)), anonMaxMiB: round(anon), fileMaxMiB: round(file) };
    },
  };
}

export const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
