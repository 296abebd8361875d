/** Placeholder composition root; replaced by the real CLI. */
export function main(_argv: string[]): Promise<number> {
  return Promise.resolve(0);
}
