// A tiny, strict XML 1.0 reader for the JUnit tests: it refuses anything not well-formed (unbalanced or
// mismatched tags, bad attributes, unknown entities, raw '<' or '&', characters XML forbids) and returns
// the element tree with entity references decoded, so tests assert on what a real parser would see.

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function isNameChar(ch: string, first: boolean): boolean {
  const c = ch.charCodeAt(0);
  const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || ch === '_' || ch === ':' || c > 127;
  return first ? letter : letter || (c >= 48 && c <= 57) || ch === '-' || ch === '.';
}

function isXmlChar(code: number): boolean {
  return code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff)
    || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
}

export function parseXml(input: string): XmlElement {
  for (const ch of input) {
    if (!isXmlChar(ch.codePointAt(0)!)) throw new Error(`forbidden character U+${ch.codePointAt(0)!.toString(16)}`);
  }
  let i = 0;
  const fail = (msg: string): never => { throw new Error(`${msg} at offset ${i}`); };
  const skipSpace = (): void => { while (i < input.length && ' \t\r\n'.includes(input[i])) i++; };
  const name = (): string => {
    const start = i;
    if (!isNameChar(input[i] ?? '', true)) fail('expected a name');
    while (i < input.length && isNameChar(input[i], false)) i++;
    return input.slice(start, i);
  };
  const decode = (until: string): string => {
    let out = '';
    while (i < input.length && !until.includes(input[i])) {
      if (input[i] === '<') fail("raw '<'");
      if (input[i] === '&') {
        const end = input.indexOf(';', i);
        if (end < 0) fail('unterminated entity');
        const ref = input.slice(i + 1, end);
        if (ref.startsWith('#x')) out += String.fromCodePoint(parseInt(ref.slice(2), 16));
        else if (ref.startsWith('#')) out += String.fromCodePoint(Number(ref.slice(1)));
        else if (ref in ENTITIES) out += ENTITIES[ref];
        else fail(`unknown entity &${ref};`);
        i = end + 1;
      } else {
        out += input[i++];
      }
    }
    return out;
  };
  const element = (): XmlElement => {
    if (input[i] !== '<') fail("expected '<'");
    i++;
    const el: XmlElement = { name: name(), attrs: {}, children: [], text: '' };
    for (;;) {
      skipSpace();
      if (input.startsWith('/>', i)) { i += 2; return el; }
      if (input[i] === '>') { i++; break; }
      const key = name();
      if (key in el.attrs) fail(`duplicate attribute ${key}`);
      skipSpace();
      if (input[i++] !== '=') fail("expected '='");
      skipSpace();
      const quote = input[i++];
      if (quote !== '"' && quote !== "'") fail('expected a quote');
      // Attribute-value normalisation: literal whitespace becomes a space, references keep theirs.
      let raw = '';
      while (i < input.length && input[i] !== quote) {
        if ('\t\n\r'.includes(input[i])) { raw += ' '; i++; } else raw += decode(quote + '\t\n\r');
      }
      if (input[i++] !== quote) fail('unterminated attribute');
      el.attrs[key] = raw;
    }
    for (;;) {
      if (i >= input.length) fail(`unclosed <${el.name}>`);
      if (input.startsWith('</', i)) {
        i += 2;
        const closing = name();
        if (closing !== el.name) fail(`</${closing}> closes <${el.name}>`);
        skipSpace();
        if (input[i++] !== '>') fail("expected '>'");
        return el;
      }
      if (input[i] === '<') el.children.push(element());
      else el.text += decode('<');
    }
  };
  if (input.startsWith('<?xml')) {
    const end = input.indexOf('?>');
    if (end < 0) fail('unterminated declaration');
    i = end + 2;
  }
  skipSpace();
  const root = element();
  skipSpace();
  if (i !== input.length) fail('content after the root element');
  return root;
}

export function descendants(el: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children) {
    if (c.name === name) out.push(c);
    out.push(...descendants(c, name));
  }
  return out;
}
