/**
 * `delimiter: "\r\n"` in double quotes is already CR LF after YAML; in single quotes or plain
 * it is the four characters \ r \ n. Both mean the same to an operator, so decode the escapes.
 */
export function decodeEscapes(s: string): string {
  return s.replace(/\\(x[0-9A-Fa-f]{2}|[rnt0\\])/g, (_, e: string) => {
    switch (e[0]) {
      case 'r': return '\r';
      case 'n': return '\n';
      case 't': return '\t';
      case '0': return '\0';
      case '\\': return '\\';
      default: return String.fromCharCode(parseInt(e.slice(1), 16));
    }
  });
}
