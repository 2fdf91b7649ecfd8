import { z } from 'zod';
import { excerpt, POINT_NAME, toValue, type LineParser } from './types.js';

/**
 * `parse: kv` or `parse: { kv: { pairSeparator: " ", assign: "=" } }`: `T=21.5 H=40` style.
 * A whitespace separator also accepts runs of spaces/tabs, since sensors pad columns.
 */
export const kvOptions = z.strictObject({
  pairSeparator: z.string().min(1).default(' '),
  assign: z.string().min(1).default('='),
}).superRefine((o, ctx) => {
  if (o.pairSeparator === o.assign) ctx.addIssue({ code: 'custom', path: ['assign'], message: 'must differ from pairSeparator' });
});
export type KvOptions = z.output<typeof kvOptions>;

export function createKvParser(opts: KvOptions): LineParser {
  const { assign } = opts;
  const sep: string | RegExp = opts.pairSeparator.trim() === '' ? /\s+/ : opts.pairSeparator;
  return {
    parse(line, out) {
      const text = line.trim();
      if (text === '') return { kind: 'no-match', message: 'empty line' };
      let n = 0;
      let bad: string | undefined;
      for (const pair of text.split(sep)) {
        if (pair === '') continue;
        const at = pair.indexOf(assign);
        const key = at > 0 ? pair.slice(0, at).trim() : '';
        const val = at > 0 ? pair.slice(at + assign.length).trim() : '';
        if (key === '' || val === '' || !POINT_NAME.test(key)) {
          bad ??= pair;
          continue;
        }
        out(key, toValue(val));
        n++;
      }
      if (n === 0) return { kind: 'no-match', message: `no key${assign}value pair in ${excerpt(line)}` };
      // Good pairs were emitted; the broken one is still worth a count.
      if (bad !== undefined) return { kind: 'parse', message: `bad pair ${excerpt(bad)} in ${excerpt(line)}` };
      return undefined;
    },
  };
}
