// Entry point selected by the "node" export condition: the same API as the
// portable entry, with the node:crypto provider installed.
import { setCryptoProvider } from '../crypto/provider.js';
import { nodeProvider } from './crypto.js';

setCryptoProvider(nodeProvider);

export * from '../index.js';
export { nodeProvider } from './crypto.js';
