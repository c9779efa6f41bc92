// Public API of @trailseal/format. Pure: no I/O and no host-specific imports.
export * from './errors.js';
export * from './bytes.js';
export * from './crypto/provider.js';
export { nobleProvider } from './crypto/noble.js';
