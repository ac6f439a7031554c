// Addresses: `host:port`, `[v6]:port`, `:port` and bare hosts, and what counts as loopback.

interface HostPort { host: string; port: number }

/**
 * `host:port`, `[::1]:port`, or `:port` (host `''`: every interface). Throws with a message naming what was
 * given. The host comes back without brackets.
 */
export function parseHostPort(text: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`"${text}" is not HOST:PORT (e.g. 127.0.0.1:8080, [::1]:8080, :8080)`);
  return { host: m[1] ?? m[2], port };
}

/** The host part of `host`, `host:port`, `[v6]:port`, `[v6]` or a bare IPv6 address. */
export function hostOf(address: string): string {
  const a = address.trim();
  const bracketed = /^\[([^\]]*)\](?::\d*)?$/.exec(a);
  if (bracketed) return bracketed[1];
  const colons = a.split(':').length - 1;
  return colons === 1 ? a.slice(0, a.indexOf(':')) : a;
}

/** 127.0.0.0/8 (also IPv4-mapped), ::1 (any spelling) or `localhost`. Brackets are ignored. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  const groups = ipv6Groups(h);
  if (groups && groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1) return true;
  const v4 = /^(?:::ffff:)?127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return v4 !== null && v4.slice(1).every((o) => Number(o) <= 255);
}

/** `0.0.0.0`, `::` (any spelling) or empty (every interface). */
export function isWildcardHost(host: string): boolean {
  const h = host.trim().replace(/^\[|\]$/g, '');
  if (h === '' || h === '0.0.0.0') return true;
  const groups = ipv6Groups(h);
  return groups !== undefined && groups.every((g) => g === 0);
}

/** The eight 16-bit groups of a pure-hex IPv6 address (`::` expanded), or undefined. */
function ipv6Groups(h: string): number[] | undefined {
  if (!h.includes(':') || !/^[0-9a-f:]+$/.test(h)) return undefined;
  const halves = h.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? head.length !== 8 : fill < 1) return undefined;
  const groups = [...head, ...Array(halves.length === 2 ? fill : 0).fill(0), ...tail];
  return groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) && groups.length === 8 ? groups : undefined;
}

/** Whether a name is a DNS name (not an IP literal): TLS servername is set only for these. */
export function isDnsName(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (h.includes(':')) return false;
  return !/^\d{1,3}(\.\d{1,3}){3}$/.test(h);
}

/** Where a URL's authority (and so its userinfo) ends. */
const AUTHORITY_END = new Set([...'/?# \t\n\r\f\v'].map((c) => c.charCodeAt(0)));

/**
 * A URL with its userinfo (user:password@) removed, for logs and findings. Text that is not a URL passes unchanged.
 * The userinfo ends at the last `@` before the path (a password may hold `@`). One pass over the text, no regular
 * expression backtracking: a hostile command line of megabytes must not stall a scan.
 */
export function redactUrl(text: string): string {
  let out = '';
  let from = 0;
  for (let sep = text.indexOf('://'); sep >= 0; sep = text.indexOf('://', sep + 3)) {
    if (!/[a-z0-9+.-]$/i.test(text.slice(Math.max(0, sep - 1), sep))) continue; // no scheme before it
    const hostStart = sep + 3;
    let end = hostStart;
    while (end < text.length && !AUTHORITY_END.has(text.charCodeAt(end))) end++;
    const inAuthority = text.slice(hostStart, end).lastIndexOf('@');
    if (inAuthority < 0) { sep = Math.max(sep, end - 3); continue; }
    const at = hostStart + inAuthority;
    out += text.slice(from, hostStart);
    from = at + 1;
    sep = Math.max(sep, at - 2);
  }
  return from === 0 ? text : out + text.slice(from);
}
