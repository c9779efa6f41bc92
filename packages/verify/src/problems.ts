import type { ErrorCode } from '@trailseal/format';

/** One thing a verification found wrong. Verifiers report all of them, not just the first. */
export interface Problem {
  readonly code: ErrorCode;
  /** The record's claimed seq, when the problem concerns one record. */
  readonly seq?: number;
  /** 1-based line number in the input, when the input is lines. */
  readonly line?: number;
  readonly message: string;
}

/** Collects problems, keeping at most `limit` but counting all. */
export class ProblemList {
  readonly items: Problem[] = [];
  total = 0;

  constructor(private readonly limit = 1000) {}

  add(p: Problem): void {
    this.total++;
    if (this.items.length < this.limit) this.items.push(p);
  }

  addAll(other: ProblemList): void {
    for (const p of other.items) this.add(p);
    this.total += other.total - other.items.length;
  }
}
