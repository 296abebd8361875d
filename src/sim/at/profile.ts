/**
 * The modem's settings: S-registers and the E/Q/V/X/&/caller-ID/class switches, as one
 * profile that ATZ, AT&F and AT&W copy around.
 */

export interface Profile {
  echo: boolean;
  quiet: boolean;
  verbose: boolean;
  x: number;
  s: number[];
  amp: Record<string, number>;
  cid: number;
  fclass: string;
}

/** Factory S-register values (Hayes conventions). */
function factorySRegisters(): number[] {
  const s = new Array<number>(256).fill(0);
  s[2] = 43; // escape character '+'
  s[3] = 13; // CR
  s[4] = 10; // LF
  s[5] = 8; // BS
  s[6] = 2; // wait for dial tone, s
  s[7] = 50; // wait for carrier, s
  s[8] = 2; // comma pause, s
  s[10] = 14; // carrier loss delay, 1/10 s
  s[12] = 50; // escape guard time, 1/50 s
  return s;
}

export function factoryProfile(): Profile {
  return { echo: true, quiet: false, verbose: true, x: 4, s: factorySRegisters(), amp: {}, cid: 0, fclass: '0' };
}

export function cloneProfile(p: Profile): Profile {
  return { ...p, s: [...p.s], amp: { ...p.amp } };
}

/** S-register `n`, or its factory default when unset. */
export function sReg(p: Profile, n: number, fallback = 0): number {
  return p.s[n] ?? fallback;
}

/** The line end characters the profile sets (S3, S4). */
export function crOf(p: Profile): string {
  return String.fromCharCode(p.s[3] ?? 13);
}

export function lfOf(p: Profile): string {
  return String.fromCharCode(p.s[4] ?? 10);
}
