#!/usr/bin/env node
// Launcher for the `trailseal-verify` command: checked in (and executable) so
// that npm can link it before the TypeScript build has produced dist/.
import '../dist/main.js';
