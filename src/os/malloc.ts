/** glibc malloc statistics and malloc_trim (soak measurements; giving free heap back to the kernel). */
import { koffi, lib } from './ffi.js';

const MallInfo2T = koffi.struct('mallinfo2', {
  arena: 'size_t',
  ordblks: 'size_t',
  smblks: 'size_t',
  hblks: 'size_t',
  hblkhd: 'size_t',
  usmblks: 'size_t',
  fsmblks: 'size_t',
  uordblks: 'size_t',
  fordblks: 'size_t',
  keepcost: 'size_t',
});

/** Bound on first use, not at load: mallinfo2 is glibc >= 2.33, and a missing symbol must not break the rest of this file. */
function optionalFunc(bind: () => (...args: unknown[]) => unknown): () => ((...args: unknown[]) => unknown) | undefined {
  let fn: ((...args: unknown[]) => unknown) | null | undefined;
  return () => {
    if (fn === undefined) {
      try {
        fn = bind();
      } catch {
        fn = null;
      }
    }
    return fn ?? undefined;
  };
}
const c_mallinfo2 = optionalFunc(() => lib.func('mallinfo2', MallInfo2T, []));
const c_malloc_trim = optionalFunc(() => lib.func('int malloc_trim(size_t pad)'));

/** glibc malloc totals over every arena, in bytes. */
export interface MallocInfo {
  /** Bytes obtained from the kernel with brk/sbrk or as arena heaps (not mmapped chunks). */
  arena: number;
  /** Bytes in large chunks mmapped one by one. */
  mmapped: number;
  /** Bytes in use by the program (both kinds). */
  inUse: number;
  /** Free bytes held in the arenas (fragmentation + not yet trimmed). */
  free: number;
  /** Free bytes at the top of the main arena (trimmable by brk). */
  topFree: number;
}

/** mallinfo2(3) (glibc >= 2.33 sums every arena); undefined where the C library has none. */
export function mallocInfo(): MallocInfo | undefined {
  const f = c_mallinfo2();
  if (f === undefined) return undefined;
  const m = f() as Record<string, number | bigint>;
  const n = (k: string): number => Number(m[k] ?? 0);
  return { arena: n('arena'), mmapped: n('hblkhd'), inUse: n('uordblks') + n('hblkhd'), free: n('fordblks'), topFree: n('keepcost') };
}

/** Is malloc_trim(3) there (glibc)? */
export function canTrimMalloc(): boolean {
  return c_malloc_trim() !== undefined;
}

/** malloc_trim(3): give free pages of every arena back to the kernel. True if any memory was released; false also without glibc. */
export function mallocTrim(pad = 0): boolean {
  const f = c_malloc_trim();
  return f !== undefined && (f(pad) as number) === 1;
}
