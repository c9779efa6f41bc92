// Like the format core, the verifier compiles with no host typings, so any use
// of a host-only API is a compile error. The streaming UTF-8 decoder is the
// only host global it relies on: every browser and Node.js >= 11 has it.
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: Uint8Array, options?: { stream?: boolean }): string;
}
