import type { z } from 'zod';

/** One config problem: where (key path, line:col) and what. */
export interface ConfigError {
  path: string;
  message: string;
  line?: number;
  col?: number;
}

/** `sources[2].points[0].type` from ['sources', 2, 'points', 0, 'type']. */
export function formatPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const k of path) {
    if (typeof k === 'number') s += `[${k}]`;
    else s += s ? `.${String(k)}` : String(k);
  }
  return s || '(root)';
}

export function formatError(e: ConfigError, file?: string): string {
  const where = file !== undefined && e.line !== undefined ? ` (${file}:${e.line}:${e.col})` : '';
  return `${e.path}: ${e.message}${where}`;
}

function typeName(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'array';
  return typeof input === 'object' ? 'mapping' : typeof input;
}

/**
 * Turn zod issues into messages an operator can act on. Unknown keys become one error per key
 * (with the key in the path, so the position points at the typo).
 */
export function fromZodIssues(issues: readonly z.core.$ZodIssue[], root: unknown): { path: PropertyKey[]; message: string }[] {
  const out: { path: PropertyKey[]; message: string }[] = [];
  for (const iss of issues) {
    const path = iss.path as PropertyKey[];
    switch (iss.code) {
      case 'unrecognized_keys':
        for (const k of iss.keys) out.push({ path: [...path, k], message: `unknown key "${k}"` });
        break;
      case 'invalid_type': {
        const input = getIn(root, path);
        out.push({ path, message: input === undefined ? `required (expected ${iss.expected})` : `expected ${iss.expected}, got ${typeName(input)}` });
        break;
      }
      case 'invalid_value':
        out.push({ path, message: `expected ${iss.values.length === 1 ? '' : 'one of '}${iss.values.map((v) => String(v)).join(', ')}` });
        break;
      case 'invalid_union': {
        const note = (iss as { note?: string }).note;
        const disc = (iss as { discriminator?: string }).discriminator;
        if (note === 'No matching discriminator' && disc) {
          const opts = (iss as { options?: unknown[] }).options;
          const at = path[path.length - 1] === disc ? path : [...path, disc];
          out.push({ path: at, message: `unknown ${disc}${opts ? `: expected one of ${opts.join(', ')}` : ''}` });
        } else if (iss.errors.length > 0 && iss.errors.every((b) => b.length === 1 && b[0].code === 'invalid_value' && b[0].path.length === 0)) {
          // A union of literals (e.g. qos: 0 | 1 | 2): list every allowed value.
          const values = iss.errors.flatMap((b) => (b[0] as z.core.$ZodIssueInvalidValue).values);
          out.push({ path, message: `expected one of ${values.map(String).join(', ')}` });
        } else if (iss.errors.length > 0) {
          // Report the branch that got furthest: the one with the fewest issues.
          const best = [...iss.errors].sort((a, b) => a.length - b.length)[0];
          out.push(...fromZodIssues(best.map((i) => ({ ...i, path: [...path, ...i.path] })) as z.core.$ZodIssue[], root));
        } else out.push({ path, message: iss.message });
        break;
      }
      case 'too_small':
      case 'too_big':
        out.push({ path, message: boundMessage(iss) });
        break;
      case 'invalid_format':
      case 'custom':
      default:
        out.push({ path, message: iss.message });
    }
  }
  return out;
}

/** zod's "Too small: expected array to have >=1 items" in the file's own terms. */
function boundMessage(iss: z.core.$ZodIssue): string {
  const i = iss as { code: string; origin?: string; minimum?: number | bigint; maximum?: number | bigint; inclusive?: boolean; message: string };
  const small = i.code === 'too_small';
  const limit = Number(small ? i.minimum : i.maximum);
  if (i.origin === 'array') {
    const n = i.inclusive === false ? (small ? limit + 1 : limit - 1) : limit;
    return `expected ${small ? 'at least' : 'at most'} ${n} item${n === 1 ? '' : 's'}`;
  }
  if (i.origin === 'number' || i.origin === 'int' || i.origin === 'bigint') {
    return `must be ${small ? (i.inclusive === false ? 'greater than' : 'at least') : (i.inclusive === false ? 'less than' : 'at most')} ${limit}`;
  }
  if (i.origin === 'string') return `must be ${small ? 'at least' : 'at most'} ${limit} character${limit === 1 ? '' : 's'} long`;
  return i.message;
}

function getIn(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur = root;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}
