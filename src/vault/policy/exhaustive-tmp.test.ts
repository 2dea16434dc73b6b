import { it, expect } from "vitest";
import { matchPattern, mayIntersect, patternCovers, patternProblem } from "./pattern.js";
it("exhaustive small", () => {
  const segGlobs = ["a", "b", "*", "a*", "*a", "*b", "a*a", "*a*", "ab", "ba", "**"];
  const segs = ["a", "b", "aa", "ab", "ba", "bb", "aba", "aab"];
  const pats: string[] = [];
  for (const x of segGlobs) { pats.push(x); for (const y of segGlobs) { pats.push(`${x}/${y}`); for (const z of segGlobs) pats.push(`${x}/${y}/${z}`); } }
  const valid = pats.filter((p) => patternProblem(p) === undefined);
  const paths: string[] = [];
  for (const x of segs) for (const y of segs) { paths.push(`${x}/${y}`); for (const z of segs) { paths.push(`${x}/${y}/${z}`); for (const w of ["a","b"]) paths.push(`${x}/${y}/${z}/${w}`); } }
  const m = new Map(valid.map((p) => [p, paths.filter((s) => matchPattern(p, s))]));
  let covers = 0, inter = 0;
  for (const a of valid) for (const b of valid) {
    const ma = new Set(m.get(a));
    if (patternCovers(a, b)) { covers++; for (const s of m.get(b)!) expect(ma.has(s), `${a} covers ${b} but not ${s}`).toBe(true); }
    const both = m.get(b)!.some((s) => ma.has(s));
    if (both) expect(mayIntersect(a, b), `${a} ∩ ${b}`).toBe(true);
    if (mayIntersect(a, b)) inter++;
  }
  console.log(valid.length, covers, inter);
});
