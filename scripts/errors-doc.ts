// docs/errors.md is rendered from the one error registry; a test checks the
// committed file is current and that every code is documented.
import { ERROR_REGISTRY } from '@trailseal/format';

export function renderErrorsDoc(): string {
  const rows = Object.entries(ERROR_REGISTRY).map(([code, spec]) => `| \`${code}\` | ${spec.status} | ${spec.title} | ${spec.doc.replace(/\|/g, '\\|')} |`);
  return `# Error codes

Every error Trailseal raises carries one stable \`code\` from this table. Codes
never change meaning; messages may improve. Over HTTP an error is an RFC 9457
\`application/problem+json\` body whose \`code\` member is one of these, with the
status given here. Validation errors (\`EVENT_INVALID\`, \`RECORD_INVALID\`) also
list every bad field as \`{path, code, message}\`, where \`path\` is the JSON path
(\`authorization.grants[2].permission\`) and \`code\` a \`FIELD_*\` code.

Verifiers report problems with the same codes (\`CHAIN_BROKEN\`, \`ROOT_MISMATCH\`,
...), each with the \`seq\` and line it concerns.

This file is generated from \`packages/format/src/errors.ts\` by
\`npm run errors-doc\`; edit the registry, not this file.

| code | HTTP | title | meaning and what to do |
| --- | --- | --- | --- |
${rows.join('\n')}
`;
}
