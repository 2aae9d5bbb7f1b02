import { describe, expect, it } from 'vitest';
import { buildStateVector, covers, toRanges } from './state-vector';

describe('toRanges', () => {
  it('is empty for no sequence numbers', () => {
    expect(toRanges([])).toEqual([]);
  });

  it('makes one range for a single number and for a run', () => {
    expect(toRanges([7])).toEqual([[7, 7]]);
    expect(toRanges([1, 2, 3, 4])).toEqual([[1, 4]]);
  });

  it('sorts, removes duplicates and splits at gaps', () => {
    expect(toRanges([9, 3, 1, 2, 2, 10, 5, 3])).toEqual([
      [1, 3],
      [5, 5],
      [9, 10],
    ]);
  });

  it('sorts numerically, not as strings', () => {
    expect(toRanges([10, 9, 100, 2])).toEqual([
      [2, 2],
      [9, 10],
      [100, 100],
    ]);
  });

  it('accepts any iterable', () => {
    expect(toRanges(new Set([3, 1, 2]))).toEqual([[1, 3]]);
  });
});

describe('buildStateVector', () => {
  it('groups by author', () => {
    const vector = buildStateVector([
      { author: 'a', seq: 2 },
      { author: 'b', seq: 1 },
      { author: 'a', seq: 1 },
      { author: 'a', seq: 4 },
      { author: 'b', seq: 1 },
    ]);
    expect(vector).toEqual({
      a: [
        [1, 2],
        [4, 4],
      ],
      b: [[1, 1]],
    });
  });

  it('is empty for no entries', () => {
    expect(buildStateVector([])).toEqual({});
  });
});

describe('covers', () => {
  const vector = buildStateVector([1, 2, 3, 5, 9, 10, 11, 20].map(seq => ({ author: 'a', seq })));

  it('is true inside every range, including both ends', () => {
    for (const seq of [1, 2, 3, 5, 9, 10, 11, 20]) expect(covers(vector, 'a', seq)).toBe(true);
  });

  it('is false in the gaps and outside the ranges', () => {
    for (const seq of [0, 4, 6, 7, 8, 12, 19, 21, 1000]) expect(covers(vector, 'a', seq)).toBe(false);
  });

  it('is false for an unknown author, including names inherited from Object.prototype', () => {
    expect(covers(vector, 'b', 1)).toBe(false);
    expect(covers(vector, 'toString', 1)).toBe(false);
    expect(covers(vector, '__proto__', 1)).toBe(false);
    expect(covers({}, 'a', 1)).toBe(false);
  });

  it('handles a single range and a single number', () => {
    expect(covers({ a: [[4, 4]] }, 'a', 4)).toBe(true);
    expect(covers({ a: [[4, 4]] }, 'a', 3)).toBe(false);
    expect(covers({ a: [[4, 4]] }, 'a', 5)).toBe(false);
  });

  it('finds every member of a large vector with many gaps (binary search), and no gap', () => {
    const held = new Set<number>();
    for (let s = 1; s <= 6000; s++) if (s % 3 !== 0 && s % 7 !== 0) held.add(s);
    const big = buildStateVector([...held].map(seq => ({ author: 'k', seq })));
    expect(big.k.length).toBeGreaterThan(1500);
    for (let s = 0; s <= 6001; s++) expect(covers(big, 'k', s)).toBe(held.has(s));
  });

  it('covers a huge range without listing it', () => {
    expect(covers({ a: [[1, Number.MAX_SAFE_INTEGER]] }, 'a', 123_456_789)).toBe(true);
    expect(covers({ a: [[1, Number.MAX_SAFE_INTEGER]] }, 'a', 0)).toBe(false);
  });
});
