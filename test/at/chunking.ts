/** Seeded PRNG (mulberry32): random choices that repeat run after run. */
export function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    let t = (state = (state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Split = (buf: Buffer) => Buffer[];

export const oneByte: Split = (buf) => Array.from({ length: buf.length }, (_, i) => buf.subarray(i, i + 1));

/** Random chunk sizes from 1 to `max` bytes (empty chunks included now and then: a read may be 0 bytes). */
export function randomChunks(seed: number, max = 40): Split {
  return (buf) => {
    const random = rng(seed);
    const out: Buffer[] = [];
    for (let at = 0; at < buf.length; ) {
      const n = random() < 0.05 ? 0 : 1 + Math.floor(random() * max);
      out.push(buf.subarray(at, at + n));
      at += n;
    }
    return out;
  };
}

/** The ways a stream is cut in the property tests: one byte at a time, and random chunkings. */
export function chunkings(seed: number): [string, Split][] {
  return [
    ['1 byte at a time', oneByte],
    [`random chunks (seed ${seed})`, randomChunks(seed)],
    [`random chunks (seed ${seed + 1}, up to 7)`, randomChunks(seed + 1, 7)],
    [`random chunks (seed ${seed + 2}, up to 512)`, randomChunks(seed + 2, 512)],
  ];
}
