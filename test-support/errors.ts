// Shared assertions about errors, for tests across packages.
import { fromUtf8, isTrailsealError, utf8, type ErrorCode } from '@trailseal/format';

/** The TrailsealError code `f` throws, 'none' when it returns, 'other' for any other throw. */
export function codeOf(f: () => unknown): ErrorCode | 'none' | 'other' {
  try {
    f();
    return 'none';
  } catch (e) {
    return isTrailsealError(e) ? e.code : 'other';
  }
}

/**
 * `text` with the byte at `at` (mod its length) XORed with `mask` (1..255), or
 * undefined when the result is no longer UTF-8 (and so is rejected before
 * any parser sees it).
 */
export function flipByte(text: string, at: number, mask: number): string | undefined {
  const bytes = utf8(text);
  bytes[at % bytes.length]! ^= mask;
  try {
    return fromUtf8(bytes);
  } catch {
    return undefined;
  }
}
