/**
 * Wildcard sequences: the one algorithm behind both levels of a pattern. A pattern is a
 * sequence of units and STARs; a STAR stands for any run of items, including none. Within a
 * segment the units are characters and STAR is `*`; across segments the units are segment
 * globs and STAR is `**`.
 *
 * Everything here is polynomial (at most O(|a|·|b|) unit comparisons) whatever the input, so
 * a pattern read from a file cannot make matching, containment or intersection blow up the
 * way a backtracking regular expression can.
 */

export const STAR: unique symbol = Symbol("star");
export type Token<U> = U | typeof STAR;

/**
 * Does `pattern` match the whole of `input`? Each unit matches exactly one item (as told by
 * `unitMatches`); a STAR matches any run of items.
 *
 * Greedy with a single backtrack point: on a mismatch, only the most recent STAR is widened.
 * That is complete because a STAR-free piece matched at its leftmost possible place leaves
 * the longest possible rest for everything after it.
 */
export function sequenceMatches<U, T>(pattern: readonly Token<U>[], input: ArrayLike<T>, unitMatches: (unit: U, item: T) => boolean): boolean {
  let p = 0;
  let i = 0;
  let starP = -1; // index of the last STAR seen in the pattern
  let starI = 0; // input index that STAR currently stops before
  while (i < input.length) {
    const token = pattern[p];
    if (p < pattern.length && token === STAR) {
      starP = p;
      starI = i;
      p += 1;
    } else if (p < pattern.length && unitMatches(token as U, input[i] as T)) {
      p += 1;
      i += 1;
    } else if (starP >= 0) {
      // Let the last STAR swallow one more item and retry the piece after it.
      starI += 1;
      i = starI;
      p = starP + 1;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === STAR) p += 1;
  return p === pattern.length;
}

/**
 * Could some input match both `a` and `b`? A reachability search over pairs of positions
 * (the product of the two automata). `unitsIntersect(x, y)` says whether one item can match
 * both units; every unit is assumed to match at least one item.
 */
export function sequencesIntersect<U>(a: readonly Token<U>[], b: readonly Token<U>[], unitsIntersect: (x: U, y: U) => boolean): boolean {
  const width = b.length + 1;
  const seen = new Uint8Array((a.length + 1) * width);
  const stack: number[] = [0];
  seen[0] = 1;
  const visit = (i: number, j: number): void => {
    const k = i * width + j;
    if (seen[k] === 0) {
      seen[k] = 1;
      stack.push(k);
    }
  };
  while (stack.length > 0) {
    const k = stack.pop() as number;
    const i = Math.floor(k / width);
    const j = k % width;
    if (i === a.length && j === b.length) return true;
    const x = a[i];
    const y = b[j];
    // A STAR may end here (match nothing more) ...
    if (i < a.length && x === STAR) visit(i + 1, j);
    if (j < b.length && y === STAR) visit(i, j + 1);
    // ... or one item is consumed on both sides.
    if (i < a.length && j < b.length) {
      if (x === STAR && y !== STAR) visit(i, j + 1);
      else if (x !== STAR && y === STAR) visit(i + 1, j);
      else if (x !== STAR && y !== STAR && unitsIntersect(x as U, y as U)) visit(i + 1, j + 1);
    }
  }
  return false;
}

/**
 * A sufficient (not necessary) test that every input matching `child` also matches `parent`:
 * read the child as a string over units and STARs, and ask whether the parent matches it
 * when a child STAR may only be absorbed by a parent STAR. If so, whatever the child's STARs
 * expand to stays inside the parent's STARs. `unitContained(c, p)` must itself be sound.
 */
export function sequenceContained<U>(
  child: readonly Token<U>[],
  parent: readonly Token<U>[],
  unitContained: (childUnit: U, parentUnit: U) => boolean,
): boolean {
  return sequenceMatches<U, Token<U>>(parent, child, (parentUnit, childToken) => childToken !== STAR && unitContained(childToken, parentUnit));
}
