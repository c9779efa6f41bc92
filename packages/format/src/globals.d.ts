// The format core compiles with no host typings (no DOM, no @types/node), so
// that any use of a host-only API is a compile error. These two encoders are
// the only host globals it relies on: every browser and Node.js >= 11 has them.
declare class TextEncoder {
  encode(input?: string): Uint8Array;
  encodeInto(input: string, dest: Uint8Array): { read: number; written: number };
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: Uint8Array): string;
}
