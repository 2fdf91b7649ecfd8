/**
 * RFC 8785 (JCS) canonical JSON, small: keys sorted by UTF-16 code units, no white space,
 * ECMAScript number and string serialisation (which is what JCS prescribes). For documents of
 * strings, integers and booleans this equals Python's
 * `json.dumps(o, sort_keys=True, separators=(',', ':'), ensure_ascii=False)`; the one corner
 * where they differ is key order between astral-plane characters and U+E000..U+FFFF (Python sorts by
 * code point), irrelevant for config keys.
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`cannot canonicalise non-finite number ${value}`);
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
      const obj = value as Record<string, unknown>;
      // Default sort compares UTF-16 code units, as JCS requires.
      const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
    }
    default:
      throw new TypeError(`cannot canonicalise a ${typeof value}`);
  }
}
