import { EMPTY_ROOT, nodeHash } from '../merkle/mod.ts';

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * The right edge of an RFC 6962 tree: the roots of the complete subtrees its leaves split into,
 * largest first (one per set bit of the size). That is all it takes to append a leaf and to give
 * the root, so a chain's tree costs O(log n) memory and one node hash per leaf on average. Blocks
 * carry it (`edge`), so a sealer resumes a tenant's tree from its last block alone.
 */
export class Frontier {
  /** Subtree roots, largest first; `#levels[i]` is the level (log2 of the leaf count) of `#roots[i]`. */
  readonly #roots: Uint8Array[];
  readonly #levels: number[];
  #size: number;

  private constructor(size: number, roots: Uint8Array[], levels: number[]) {
    this.#size = size;
    this.#roots = roots;
    this.#levels = levels;
  }

  static empty(): Frontier {
    return new Frontier(0, [], []);
  }

  /** The frontier of a tree of `size` leaves from its edge (hex, largest first); null when the edge cannot be one of that size. */
  static fromEdge(size: number, edge: readonly string[]): Frontier | null {
    if (!Number.isSafeInteger(size) || size < 0) return null;
    const levels: number[] = [];
    for (let bit = 52; bit >= 0; bit--) if (Math.floor(size / 2 ** bit) % 2 === 1) levels.push(bit);
    if (levels.length !== edge.length || !edge.every((h) => HEX64.test(h))) return null;
    return new Frontier(
      size,
      edge.map((h) => Buffer.from(h, 'hex')),
      levels,
    );
  }

  get size(): number {
    return this.#size;
  }

  /** Appends one leaf hash (32 bytes). */
  append(leaf: Uint8Array): void {
    let h = leaf;
    let level = 0;
    // Merging the trailing subtrees of equal level is the binary carry of size + 1.
    while (this.#levels.length > 0 && this.#levels[this.#levels.length - 1] === level) {
      h = nodeHash(this.#roots.pop()!, h);
      this.#levels.pop();
      level++;
    }
    this.#roots.push(h);
    this.#levels.push(level);
    this.#size++;
  }

  /** The tree's root: the subtree roots folded from the right (SHA-256("") when empty). */
  root(): Uint8Array {
    if (this.#roots.length === 0) return Uint8Array.from(EMPTY_ROOT);
    let r = this.#roots[this.#roots.length - 1]!;
    for (let i = this.#roots.length - 2; i >= 0; i--) r = nodeHash(this.#roots[i]!, r);
    return r;
  }

  /** The edge as blocks carry it: hex, largest subtree first. */
  edge(): string[] {
    return this.#roots.map((r) => Buffer.from(r).toString('hex'));
  }

  clone(): Frontier {
    return new Frontier(this.#size, [...this.#roots], [...this.#levels]);
  }
}
