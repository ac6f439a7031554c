import { describe, expect, it } from 'vitest';
import { decodeIPv4, decodeIPv6, parseProcNet } from '../../../agent/gather/sockets/proc-net.js';
import { isLoopbackHost as isLoopback } from '../../../common/address.js';

const TCP_HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const tcpLine = (sl: number, local: string, remote: string, st: string, uid: number, inode: number): string =>
  `  ${sl}: ${local} ${remote} ${st} 00000000:00000000 00:00000000 00000000  ${uid}        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;

describe('parseProcNet', () => {
  it('keeps LISTEN tcp sockets and decodes address and port', () => {
    const text = TCP_HEADER
      + tcpLine(0, '00000000:2742', '00000000:0000', '0A', 0, 1001) // 0.0.0.0:10050
      + tcpLine(1, '0100007F:0929', '00000000:0000', '0A', 998, 1002) // 127.0.0.1:2345
      + tcpLine(2, '0100007F:0929', '0100007F:D431', '01', 0, 1003); // established: not a listener
    const { sockets, malformed } = parseProcNet(text, 'tcp');
    expect(malformed).toBe(0);
    expect(sockets).toEqual([
      { protocol: 'tcp', address: '0.0.0.0', port: 10050, inode: 1001, uid: 0 },
      { protocol: 'tcp', address: '127.0.0.1', port: 2345, inode: 1002, uid: 998 },
    ]);
  });

  it('skips and counts malformed lines without throwing', () => {
    const text = TCP_HEADER
      + 'garbage\n'
      + '   3: 0100007F:0929\n' // truncated
      + tcpLine(4, 'ZZZZZZZZ:0929', '00000000:0000', '0A', 0, 1) // not hex
      + tcpLine(5, '0100007F0:0929', '00000000:0000', '0A', 0, 2) // 9 hex digits for an IPv4 table
      + tcpLine(6, '0100007F:12345', '00000000:0000', '0A', 0, 3) // 5-digit port
      + '\u0000\u0001\u00ff binary junk \n'
      + tcpLine(7, '0100007F:0050', '00000000:0000', '0A', 0, 4);
    const { sockets, malformed } = parseProcNet(text, 'tcp');
    expect(malformed).toBe(6);
    expect(sockets.map((s) => [s.address, s.port, s.inode])).toEqual([['127.0.0.1', 80, 4]]);
  });

  it('treats an IPv4-length address in an IPv6 table as malformed', () => {
    const { sockets, malformed } = parseProcNet(tcpLine(0, '0100007F:0050', '00000000:0000', '0A', 0, 1), 'tcp6');
    expect(sockets).toEqual([]);
    expect(malformed).toBe(1);
  });

  it('keeps unconnected udp sockets only', () => {
    const text = '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n'
      + tcpLine(0, '00000000:0044', '00000000:0000', '07', 0, 10) // 0.0.0.0:68 unconnected
      + tcpLine(1, '0200000A:8A4F', '0800000A:0035', '01', 0, 11); // connected to 10.0.0.8:53
    const { sockets } = parseProcNet(text, 'udp');
    expect(sockets).toEqual([{ protocol: 'udp', address: '0.0.0.0', port: 68, inode: 10, uid: 0 }]);
  });

  it('parses the tcp6 table', () => {
    const line = tcpLine(0, '00000000000000000000000001000000:2742', '00000000000000000000000000000000:0000', '0A', 0, 77);
    expect(parseProcNet(line, 'tcp6').sockets).toEqual([{ protocol: 'tcp6', address: '::1', port: 10050, inode: 77, uid: 0 }]);
  });

  it('accepts an empty table', () => {
    expect(parseProcNet('', 'udp6')).toEqual({ sockets: [], malformed: 0 });
  });
});

describe('address decoding', () => {
  it('decodes IPv4 words in little-endian order', () => {
    expect(decodeIPv4('0100007F')).toBe('127.0.0.1');
    expect(decodeIPv4('0A01A8C0')).toBe('192.168.1.10');
    expect(decodeIPv4('XYZ')).toBeUndefined();
  });

  it('decodes IPv6 as four little-endian 32-bit words', () => {
    expect(decodeIPv6('00000000000000000000000000000000')).toBe('::');
    expect(decodeIPv6('00000000000000000000000001000000')).toBe('::1');
    expect(decodeIPv6('B80D0120000000000000000001000000')).toBe('2001:db8::1');
    expect(decodeIPv6('000080FE00000000785634120000ADDE')).toBe('fe80::1234:5678:dead:0');
    expect(decodeIPv6('B80D0120010000000000000001000000')).toBe('2001:db8:0:1::1');
    // The longest zero run is compressed; of two equal runs, the first.
    expect(decodeIPv6('B80D0120000000000100000000000000')).toBe('2001:db8::1:0:0');
    expect(decodeIPv6('B80D01200000000000000100010000000')).toBeUndefined();
    expect(decodeIPv6('B80D0120000000000000010001000000')).toBe('2001:db8::1:0:0:1');
  });

  it('shows v4-mapped IPv6 addresses as IPv4', () => {
    expect(decodeIPv6('0000000000000000FFFF00000100007F')).toBe('127.0.0.1');
    expect(decodeIPv6('0000000000000000FFFF00000A01A8C0')).toBe('192.168.1.10');
  });

  it('rejects wrong lengths', () => {
    expect(decodeIPv6('0100007F')).toBeUndefined();
  });

  it('knows loopback addresses', () => {
    expect(isLoopback('127.0.0.53')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('0.0.0.0')).toBe(false);
    expect(isLoopback('::')).toBe(false);
  });
});
