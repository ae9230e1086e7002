import { describe, expect, it } from 'vitest';
import { compareCreation, creationTimeMs } from '../../src/k8s/order.js';

describe('ordering objects by creation', () => {
  const at = (t: Date | string | undefined) => ({ metadata: { creationTimestamp: t } });

  it('compares instants, whether the API gave a Date or an RFC 3339 string', () => {
    // a Monday created after a Friday: as text ("Mon ..." < "Fri ..." is false) this would invert
    const friday = new Date('2026-11-20T10:00:00Z');
    const monday = new Date('2026-11-23T10:00:00Z');
    expect(String(monday) < String(friday)).toBe(false);
    expect([at(monday), at(friday)].sort(compareCreation)).toEqual([at(friday), at(monday)]);
    expect(compareCreation(at('2026-11-20T10:00:00Z'), at(monday))).toBe(-1);
    expect(compareCreation(at(friday), at('2026-11-20T10:00:00Z'))).toBe(0);
  });

  it('puts objects without a timestamp last', () => {
    expect(creationTimeMs(at(undefined))).toBe(Number.POSITIVE_INFINITY);
    expect(compareCreation(at(undefined), at('2026-11-20T10:00:00Z'))).toBe(1);
  });
});
