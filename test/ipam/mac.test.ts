import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  InvalidAddressError,
  InvalidMacError,
  isLocalUnicastMac,
  isValidMac,
  macFromIp,
  normalizeMac,
  parseMac,
  randomMac,
} from '../../src/ipam/index.js';

describe('macFromIp (ovn-kubernetes IPAddrToHWAddr)', () => {
  it('is 0a:58 followed by the IPv4 octets', () => {
    expect(macFromIp('10.128.2.5')).toBe('0a:58:0a:80:02:05');
    expect(macFromIp('192.168.0.5')).toBe('0a:58:c0:a8:00:05');
    expect(macFromIp('::ffff:10.1.2.3')).toBe('0a:58:0a:01:02:03');
  });

  it('for IPv6 uses the first 4 bytes of SHA-256 over the canonical address text', () => {
    // sha256("fd00:10:244::3") starts dd3305d8 (computed independently with Python's hashlib).
    expect(macFromIp('fd00:10:244::3')).toBe('0a:58:dd:33:05:d8');
    expect(macFromIp('FD00:0010:0244:0000:0000:0000:0000:0003')).toBe('0a:58:dd:33:05:d8');
    const digest = createHash('sha256').update('fd00:10:128:1::5').digest('hex');
    expect(macFromIp('fd00:10:128:1::5')).toBe(
      `0a:58:${digest.slice(0, 2)}:${digest.slice(2, 4)}:${digest.slice(4, 6)}:${digest.slice(6, 8)}`,
    );
  });

  it('rejects something that is not an IP', () => {
    expect(() => macFromIp('10.0.0')).toThrow(InvalidAddressError);
  });
});

describe('MAC text', () => {
  it('parses and normalizes Kube-OVN style upper-case MACs', () => {
    expect(normalizeMac('00:00:00:53:6B:BB')).toBe('00:00:00:53:6b:bb');
    expect(normalizeMac('0A-58-0A-80-00-05')).toBe('0a:58:0a:80:00:05');
    expect(parseMac('0a:58:0a:80:00:05')).toEqual([0x0a, 0x58, 0x0a, 0x80, 0x00, 0x05]);
    expect(isValidMac('0a:58:0a:80:00')).toBe(false);
    expect(() => parseMac('0a:58:0a-80:00:05')).toThrow(InvalidMacError);
    expect(() => parseMac('zz:58:0a:80:00:05')).toThrow(InvalidMacError);
  });
});

describe('randomMac', () => {
  it('is locally administered unicast, from the injected byte source', () => {
    const mac = randomMac(() => Uint8Array.from([0xff, 1, 2, 3, 4, 5]));
    expect(mac).toBe('fe:01:02:03:04:05');
    expect(isLocalUnicastMac(mac)).toBe(true);
  });

  it('always has the local bit set and the multicast bit clear (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (bytes) => {
        const mac = randomMac(() => bytes);
        expect(isValidMac(mac)).toBe(true);
        expect(isLocalUnicastMac(mac)).toBe(true);
        expect(parseMac(mac).slice(1)).toEqual(Array.from(bytes.slice(1)));
      }),
    );
  });

  it('uses crypto randomness by default', () => {
    expect(randomMac()).not.toBe(randomMac());
  });
});
