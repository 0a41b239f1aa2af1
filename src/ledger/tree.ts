import { hash } from 'node:crypto';

const HEX64 = /^[0-9a-f]{64}$/;
/** SHA-256("") in hex: the root of the empty tree (RFC 6962 §2.1). */
export const EMPTY_ROOT_HEX = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

// Node 20's crypto.hash hands out hex about three times faster than a Buffer, and a buffer's
// write(…, 'hex') decodes it back for the next node at once: the tree's hot path (a node per leaf
// on average, for every block sealed and verified) stays in hex strings and one scratch buffer.
const scratch = Buffer.alloc(65);

/** RFC 6962 `node = SHA-256(0x01 ‖ left ‖ right)` of two hashes given and returned in hex. */
export function nodeHex(left: string, right: string): string {
  scratch[0] = 0x01;
  scratch.write(left, 1, 'hex');
  scratch.write(right, 33, 'hex');
  return hash('sha256', scratch, 'hex');
}

/**
 * The right edge of an RFC 6962 tree: the roots of the complete subtrees its leaves split into,
 * largest first (one per set bit of the size), in hex. That is all it takes to append a leaf and
 * to give the root, so a chain's tree costs O(log n) memory and one node hash per leaf on
 * average. Blocks carry it (`edge`), so a sealer resumes a tenant's tree from its last block alone.
 */
export class Frontier {
  /** Subtree roots, largest first; `#levels[i]` is the level (log2 of the leaf count) of `#roots[i]`. */
  readonly #roots: string[];
  readonly #levels: number[];
  #size: number;

  private constructor(size: number, roots: string[], levels: number[]) {
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
    return new Frontier(size, [...edge], levels);
  }

  get size(): number {
    return this.#size;
  }

  /** Appends one leaf hash (hex). */
  append(leaf: string): void {
    let h = leaf;
    let level = 0;
    // Merging the trailing subtrees of equal level is the binary carry of size + 1.
    while (this.#levels.length > 0 && this.#levels[this.#levels.length - 1] === level) {
      h = nodeHex(this.#roots.pop()!, h);
      this.#levels.pop();
      level++;
    }
    this.#roots.push(h);
    this.#levels.push(level);
    this.#size++;
  }

  /** The tree's root in hex: the subtree roots folded from the right (SHA-256("") when empty). */
  root(): string {
    if (this.#roots.length === 0) return EMPTY_ROOT_HEX;
    let r = this.#roots[this.#roots.length - 1]!;
    for (let i = this.#roots.length - 2; i >= 0; i--) r = nodeHex(this.#roots[i]!, r);
    return r;
  }

  /** The edge as blocks carry it: hex, largest subtree first. */
  edge(): string[] {
    return [...this.#roots];
  }

  clone(): Frontier {
    return new Frontier(this.#size, [...this.#roots], [...this.#levels]);
  }
}
