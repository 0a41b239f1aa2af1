/** Collects load problems with the line and column of the YAML node each one is about. */
import { isScalar, type LineCounter, type Node, type Scalar } from 'yaml';
import type { Problem } from './types.ts';

/** The problems of one rule file, positioned through the parser's LineCounter. */
export class Problems {
  readonly list: Problem[] = [];

  constructor(
    readonly file: string,
    private readonly lines: LineCounter,
  ) {}

  /** Records a problem about `node` (or about the offset `at` when there is no node). */
  add(node: Node | null | undefined, path: string, reason: string, at?: number): void {
    const offset = at ?? node?.range?.[0] ?? 0;
    const { line, col } = this.lines.linePos(offset);
    this.list.push({ file: this.file, line: Math.max(1, line), col: Math.max(1, col), path, reason });
  }

  /** The problems in file order. */
  sorted(): Problem[] {
    return [...this.list].sort((a, b) => a.line - b.line || a.col - b.col);
  }

  get empty(): boolean {
    return this.list.length === 0;
  }
}

/** The node's string value when it is a string scalar. */
export function stringOf(node: unknown): string | undefined {
  return isScalar(node) && typeof node.value === 'string' ? node.value : undefined;
}

/** The offset where a scalar's text starts, skipping its opening quote. */
export function textStart(node: Scalar): number {
  const start = node.range?.[0] ?? 0;
  return node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' ? start + 1 : start;
}

/** A path segment: keys are joined with dots. */
export function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
