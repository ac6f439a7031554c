// XML 1.0 escaping. Characters XML cannot carry at all (most C0 controls, lone surrogates, U+FFFE/FFFF)
// are written as visible \uXXXX text: host data ends up in reports and must not make them unparseable.

function isXmlChar(code: number): boolean {
  return code === 0x9 || code === 0xa || code === 0xd
    || (code >= 0x20 && code <= 0xd7ff)
    || (code >= 0xe000 && code <= 0xfffd)
    || (code >= 0x10000 && code <= 0x10ffff);
}

function escape(text: string, attribute: boolean): string {
  let out = '';
  // for..of yields whole code points; a lone surrogate comes out alone (0xd800–0xdfff) and is refused.
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (!isXmlChar(code)) { out += `\\u${code.toString(16).padStart(4, '0')}`; continue; }
    switch (ch) {
      case '&': out += '&amp;'; break;
      case '<': out += '&lt;'; break;
      case '>': out += '&gt;'; break;
      case '"': out += attribute ? '&quot;' : ch; break;
      case "'": out += attribute ? '&apos;' : ch; break;
      // Attribute-value normalisation would turn these into spaces; character references keep them.
      case '\n': out += attribute ? '&#10;' : ch; break;
      case '\r': out += '&#13;'; break;
      case '\t': out += attribute ? '&#9;' : ch; break;
      default: out += ch;
    }
  }
  return out;
}

export const escapeText = (text: string): string => escape(text, false);
export const escapeAttr = (text: string): string => escape(text, true);

export function attrs(values: Record<string, string | number | undefined>): string {
  return Object.entries(values)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${escapeAttr(String(v))}"`)
    .join('');
}
