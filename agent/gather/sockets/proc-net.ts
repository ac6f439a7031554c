// Parsing of the kernel's socket tables (/proc/net/tcp, tcp6, udp, udp6). Every line is untrusted text:
// a line that does not parse is counted and skipped.
import type { SocketProtocol } from '../../facts/sockets.js';

export interface RawSocket {
  protocol: SocketProtocol;
  address: string;
  port: number;
  inode: number;
  uid: number;
}

const TCP_LISTEN = 0x0a;
const LINE = /^\s*\d+:\s+([0-9A-Fa-f]+):([0-9A-Fa-f]{4})\s+([0-9A-Fa-f]+):([0-9A-Fa-f]{4})\s+([0-9A-Fa-f]{2})\s+\S+\s+\S+\s+\S+\s+(\d+)\s+\d+\s+(\d+)(\s|$)/;

/** The listening entries of one table: TCP in LISTEN, UDP bound but not connected. */
export function parseProcNet(text: string, protocol: SocketProtocol): { sockets: RawSocket[]; malformed: number } {
  const sockets: RawSocket[] = [];
  let malformed = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    if (i === 0 && /^\s*sl\s/.test(line)) continue; // header
    const m = LINE.exec(line);
    if (!m) { malformed++; continue; }
    const [, localHex, localPortHex, remoteHex, remotePortHex, stateHex, uid, inode] = m;
    const v6 = protocol === 'tcp6' || protocol === 'udp6';
    const address = v6 ? decodeIPv6(localHex) : decodeIPv4(localHex);
    if (address === undefined || (v6 ? remoteHex.length !== 32 : remoteHex.length !== 8)) { malformed++; continue; }
    const state = parseInt(stateHex, 16);
    const listening = protocol.startsWith('tcp')
      ? state === TCP_LISTEN
      : parseInt(remotePortHex, 16) === 0 && /^0+$/.test(remoteHex);
    if (!listening) continue;
    sockets.push({ protocol, address, port: parseInt(localPortHex, 16), inode: Number(inode), uid: Number(uid) });
  }
  return { sockets, malformed };
}

/** The kernel prints an IPv4 address as one 32-bit word in host (little-endian) order. */
export function decodeIPv4(hex: string): string | undefined {
  if (!/^[0-9A-Fa-f]{8}$/.test(hex)) return undefined;
  const n = parseInt(hex, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24].join('.');
}

/** An IPv6 address is four 32-bit words, each printed in host (little-endian) order. */
export function decodeIPv6(hex: string): string | undefined {
  if (!/^[0-9A-Fa-f]{32}$/.test(hex)) return undefined;
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) {
    const word = hex.slice(w * 8, w * 8 + 8);
    for (let b = 3; b >= 0; b--) bytes.push(parseInt(word.slice(b * 2, b * 2 + 2), 16));
  }
  const isV4Mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (isV4Mapped) return bytes.slice(12).join('.');
  const groups: number[] = [];
  for (let g = 0; g < 8; g++) groups.push((bytes[g * 2] << 8) | bytes[g * 2 + 1]);
  return formatIPv6(groups);
}

/** RFC 5952: lowercase, no leading zeros, the longest run (≥ 2) of zero groups as `::`. */
function formatIPv6(groups: number[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
