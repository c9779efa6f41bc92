// Public API of @trailseal/format. Pure: no I/O and no host-specific imports.
export * from './errors.js';
export * from './bytes.js';
export * from './crypto/provider.js';
export { nobleProvider } from './crypto/noble.js';
export * from './formats.js';
export * from './keys.js';
export * from './record.js';
export * from './seal.js';
export * from './record-codec.js';
export * from './record-scan.js';
export { isPlainObject } from './schema.js';
export * from './note.js';
export * from './checkpoint.js';
export * from './tlog-proof.js';
export * from './merkle.js';
export * from './jcs.js';
export * from './json.js';
export * from './bundle.js';
