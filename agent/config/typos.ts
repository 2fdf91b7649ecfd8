/**
 * A misspelled required key gives zod two complaints: `unknown key "adress"` and `address:
 * required`. An operator made one mistake, so they get one error: the unknown key, with a
 * "did you mean" naming the missing sibling it is close to.
 */
export function mergeMisspelled<T extends { path: PropertyKey[]; message: string }>(errs: T[]): T[] {
  const required = errs.filter((e) => e.message.startsWith('required'));
  const dropped = new Set<T>();
  const out: T[] = [];
  for (const e of errs) {
    if (!e.message.startsWith('unknown key')) continue;
    const key = String(e.path[e.path.length - 1]);
    const parent = e.path.slice(0, -1);
    const twin = required.find((r) => !dropped.has(r) && r.path.length === e.path.length && sameParent(r.path, parent) && close(key, String(r.path[r.path.length - 1])));
    if (twin) {
      dropped.add(twin);
      (e as { message: string }).message = `${e.message}; did you mean "${String(twin.path[twin.path.length - 1])}"?`;
    }
  }
  for (const e of errs) if (!dropped.has(e)) out.push(e);
  return out;
}

function sameParent(p: readonly PropertyKey[], parent: readonly PropertyKey[]): boolean {
  return parent.every((k, i) => p[i] === k);
}

/** Edit distance at most 2 (or a case-only difference): close enough to be the same key mistyped. */
export function close(a: string, b: string): boolean {
  if (a.toLowerCase() === b.toLowerCase()) return true;
  if (Math.abs(a.length - b.length) > 2) return false;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length] <= 2;
}
