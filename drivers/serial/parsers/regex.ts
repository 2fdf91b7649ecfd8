import { z } from 'zod';
import { excerpt, POINT_NAME, toValue, type LineParser } from './types.js';

/**
 * `parse: { regex: 'T=(?<temp>-?\d+(\.\d+)?)' }`: each named group is a point; a group that
 * looks like a number is a number. The pattern is searched, not anchored (add ^...$ to anchor).
 */
export const regexOptions = z.string().min(1).superRefine((src, ctx) => {
  let re: RegExp;
  try {
    re = new RegExp(src);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(e as Error).message}` });
    return;
  }
  const names = groupNames(re);
  if (names.length === 0) ctx.addIssue({ code: 'custom', message: 'needs at least one named group, e.g. (?<temp>-?\\d+(\\.\\d+)?): each named group is a point' });
  for (const n of names) {
    if (!POINT_NAME.test(n)) ctx.addIssue({ code: 'custom', message: `group name ${JSON.stringify(n)} is not a valid point name` });
  }
});

/**
 * Group names in source order. JS has no API for this; a named group is `(?<name>` in the
 * source, which lookbehinds `(?<=` and `(?<!` never look like.
 */
function groupNames(re: RegExp): string[] {
  const names: string[] = [];
  const src = re.source;
  const g = /\(\?<([A-Za-z_$][\w$]*)>/g;
  for (let m; (m = g.exec(src)); ) {
    // Skip an escaped "\(" (odd number of preceding backslashes).
    let bs = 0;
    for (let i = m.index - 1; i >= 0 && src[i] === '\\'; i--) bs++;
    if (bs % 2 === 0) names.push(m[1]);
  }
  return names;
}

export function createRegexParser(pattern: string): LineParser {
  const re = new RegExp(pattern);
  const names = groupNames(re);
  return {
    points: names,
    parse(line, out) {
      const m = re.exec(line);
      if (!m || !m.groups) return { kind: 'no-match', message: `line does not match the regex: ${excerpt(line)}` };
      let n = 0;
      for (const name of names) {
        const v = m.groups[name];
        if (v === undefined) continue; // optional group that did not take part
        out(name, toValue(v));
        n++;
      }
      return n === 0 ? { kind: 'no-match', message: `no named group matched: ${excerpt(line)}` } : undefined;
    },
  };
}
