/** The packed columns of a skeleton (src/engine/state/packed.ts): what goes in comes out, in order, exactly. */
import { describe, expect, it } from 'vitest';
import { PackReader, PackWriter } from '../../src/engine/state/packed.js';

describe('packed skeleton columns', () => {
  it('round-trip doubles (NaN, ±Infinity, -0), integers across the uint32 edge (wide sids) and strings, through JSON', () => {
    const nums = [0, -0, 1.5, -2.25e300, NaN, Infinity, -Infinity, 1_709_294_700_000.5];
    const uints = [0, 1, 0xffff_fffe, 0xffff_ffff, 2 ** 32, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER, 7];
    const strs = ['', 'TERM0001', 'é|€'];
    const w = new PackWriter();
    for (let i = 0; i < 8; i++) {
      w.num(nums[i]);
      w.uint(uints[i]);
      if (i < strs.length) w.str(strs[i]);
    }
    const r = new PackReader(JSON.parse(JSON.stringify(w.done())));
    const got = { nums: [] as number[], uints: [] as number[], strs: [] as string[] };
    for (let i = 0; i < 8; i++) {
      got.nums.push(r.num());
      got.uints.push(r.uint());
      if (i < strs.length) got.strs.push(r.str());
    }
    r.checkEnd();
    expect(got.nums).toStrictEqual(nums);
    expect(Object.is(got.nums[1], -0)).toBe(true);
    expect(got.uints).toStrictEqual(uints);
    expect(got.strs).toStrictEqual(strs);
  });

  it('refuses what it cannot hold, reads past the end or leaves values over', () => {
    const w = new PackWriter();
    for (const bad of [-1, 1.5, NaN, 2 ** 53]) expect(() => w.uint(bad), String(bad)).toThrow(/not a non-negative integer/);
    w.uint(3);
    const p = w.done();
    const r = new PackReader(p);
    expect(() => r.num()).toThrow(/fewer numbers/);
    expect(() => r.str()).toThrow(/fewer strings/);
    expect(() => new PackReader(p).checkEnd()).toThrow(/left over/);
    expect(() => new PackReader({ ...p, f: 'AAA=' })).toThrow(/whole number/);
  });
});
