/**
 * State vectors with gaps: per author, the sorted disjoint inclusive ranges of
 * sequence numbers held (as Scuttlebutt's and Yjs's state vectors, extended with
 * ranges because retention and burn-after-reading leave holes).
 */
export type Ranges = [number, number][];
/** What a peer holds: per author (public key), the inclusive ranges of sequence numbers it has (a state vector with gaps, as in Scuttlebutt and Yjs). */
export type StateVector = Record<string, Ranges>;

/** Builds the ranges of a set of sequence numbers. */
export function toRanges(seqs: Iterable<number>): Ranges {
  const sorted = [...new Set(seqs)].sort((a, b) => a - b);
  const ranges: Ranges = [];
  for (const s of sorted) {
    const last = ranges[ranges.length - 1];
    if (last && s === last[1] + 1) last[1] = s;
    else ranges.push([s, s]);
  }
  return ranges;
}

/** Builds a state vector from (author, seq) pairs. */
export function buildStateVector(entries: Iterable<{ author: string; seq: number }>): StateVector {
  const byAuthor = new Map<string, number[]>();
  for (const { author, seq } of entries) {
    let list = byAuthor.get(author);
    if (!list) byAuthor.set(author, (list = []));
    list.push(seq);
  }
  const vector: StateVector = {};
  for (const [author, seqs] of byAuthor) vector[author] = toRanges(seqs);
  return vector;
}

/** Whether `vector` covers `seq` of `author` (binary search over the ranges). */
export function covers(vector: StateVector, author: string, seq: number): boolean {
  const ranges = Object.prototype.hasOwnProperty.call(vector, author) ? vector[author] : undefined;
  if (!ranges) return false;
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [from, to] = ranges[mid];
    if (seq < from) hi = mid - 1;
    else if (seq > to) lo = mid + 1;
    else return true;
  }
  return false;
}
