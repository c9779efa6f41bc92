// fast-check arbitraries for schema-valid producer events, with the awkward
// parts of the format: escapes, control characters, non-BMP text, optional
// members present or absent, free-form context.
import fc from 'fast-check';
import type { EventV1 } from '@trailseal/format';

const text = (max: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.oneof(fc.constantFrom('a', 'Z', ' ', '"', '\\', '\u0000', '\u001f', '\u007f', 'é', '東', '🚀', '\u2028', '/'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), minLength: 1, maxLength: max });
const ident = fc.stringMatching(/^[\x21-\x7e]{1,40}$/);
const time = fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2090-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());
const action = fc.stringMatching(/^[a-z][a-z0-9_-]{0,8}(\.[a-z][a-z0-9_-]{0,8}){1,3}$/);
const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const tag = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,20}$/);

export const validEvent: fc.Arbitrary<EventV1> = fc.record(
  {
    id: ident,
    time,
    action,
    outcome: fc.constantFrom('success', 'failure', 'denied', 'error'),
    actor: fc.record(
      {
        id: text(40),
        type: fc.constantFrom('user', 'service', 'system', 'device', 'anonymous'),
        name: text(40),
        email: fc.emailAddress(),
        session_id: text(20),
        auth_method: text(10),
        mfa: fc.boolean(),
        federation: fc.record({ provider: text(20), issuer: text(40), subject: text(40), protocol: fc.constantFrom('saml', 'oidc', 'oauth2', 'ldap', 'kerberos', 'scim', 'local') }, { requiredKeys: ['provider'] }),
      },
      { requiredKeys: ['id', 'type'] },
    ),
    source: fc.record({ ip: fc.oneof(fc.ipV4(), fc.ipV6()), port: fc.integer({ min: 0, max: 65535 }), hostname: fc.domain(), user_agent: text(60) }, { requiredKeys: [] }),
    target: fc.record(
      { type: text(10), id: text(20), name: text(40), path: text(80), version: text(8), sha256: hex64, size: fc.maxSafeNat(), tags: fc.array(tag, { maxLength: 5 }), owner: text(20) },
      { requiredKeys: ['type'] },
    ),
    transfer: fc.record({ protocol: fc.constantFrom('sftp', 'ftps', 'ftp', 'https', 'http', 'as2', 'api', 'smb', 'scp'), direction: fc.constantFrom('upload', 'download', 'internal'), bytes: fc.maxSafeNat(), peer: text(30) }, { requiredKeys: ['protocol'] }),
    authorization: fc.record(
      {
        policy: fc.record({ name: text(20), version: text(8) }, { requiredKeys: ['name'] }),
        grants: fc.array(fc.record({ permission: text(20), resource: text(40), granted_by: text(20), grant_id: text(10) }, { requiredKeys: ['permission'] }), { maxLength: 4 }),
      },
      { requiredKeys: [] },
    ),
    context: fc.dictionary(text(12), fc.jsonValue({ maxDepth: 3 }).filter((v) => !JSON.stringify(v).includes('-0')), { maxKeys: 6 }),
  },
  { requiredKeys: ['id', 'time', 'action', 'outcome', 'actor'] },
) as fc.Arbitrary<EventV1>;
