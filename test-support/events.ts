// Realistic, fully attributed file-transfer events, shared by tests and
// benchmarks. richEvent(i) varies who, what, where and when with i (a few dozen
// users, a few hundred files, one source address per event), so that a
// benchmark over many of them is not flattered by caches of repeated values.
import type { EventV1 } from '@trailseal/format';

const NAMES = ['Dana Whitfield', 'Sam Ortiz', 'Lee Admin', 'Zoë Müller-Lindqvist', 'Priya Natarajan', 'Tomás Ruiz', 'Ava Chen'];
const ACTIONS = ['file.download', 'file.upload', 'file.download', 'share.create', 'file.download', 'file.delete'];
const OUTCOMES = ['success', 'success', 'success', 'denied', 'success', 'failure'] as const;
const PROTOCOLS = ['sftp', 'https', 'ftps', 'as2'] as const;
const BASE_MS = Date.UTC(2026, 10, 26, 9, 15, 2, 123);

/** A file with every target attribute; also the file of the golden log (scripts/golden.ts). */
export const PAYROLL_FILE = {
  type: 'file',
  id: 'f-0192-77ab',
  name: 'Q3-payroll-export.csv',
  path: '/finance/payroll/2026/Q3-payroll-export.csv',
  version: '7',
  sha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  size: 1843221,
  tags: ['PII', 'finance'],
  owner: 'finance-ops',
} as const;

export function richEvent(i = 0): EventV1 {
  const u = i % 37;
  const f = (i * 7) % 211;
  const hex = (i >>> 0).toString(16).padStart(8, '0');
  const size = 1000 + ((i * 7919) % 5_000_000);
  return {
    id: `evt-${String(i).padStart(8, '0')}`,
    time: new Date(BASE_MS + i * 137).toISOString(),
    action: ACTIONS[i % ACTIONS.length]!,
    outcome: OUTCOMES[i % OUTCOMES.length]!,
    actor: {
      id: `u-${48213 + u}`,
      type: 'user',
      name: NAMES[u % NAMES.length]!,
      email: `user${u}@forthbridge.example`,
      session_id: `sess-${(Math.imul(i + 1, 2654435761) >>> 0).toString(16)}`,
      auth_method: 'sso',
      mfa: u % 5 !== 0,
      federation: { provider: 'okta', issuer: 'https://forthbridge.okta.example/oauth2/default', subject: `00u1abcd${u}EFGH3ijk4l5`, protocol: 'saml' },
    },
    source: { ip: `203.0.${(i >> 8) & 255}.${i & 255}`, port: 1024 + (i % 60000), hostname: `vpn-gw-${i % 4}.forthbridge.example`, user_agent: 'WinSCP/6.3.5 (SFTP)' },
    target: {
      type: 'file',
      id: `f-${f}-77ab`,
      name: `Q3-payroll-export-${f}.csv`,
      path: `/finance/payroll/2026/Q3-payroll-export-${f}.csv`,
      version: String(1 + (i % 9)),
      sha256: hex.repeat(8),
      size,
      tags: f % 3 === 0 ? ['PII', 'finance'] : ['finance'],
      owner: 'finance-ops',
    },
    transfer: { protocol: PROTOCOLS[i % PROTOCOLS.length]!, direction: i % 2 === 0 ? 'download' : 'upload', bytes: size, peer: 'sftp.forthbridge.example:22' },
    authorization: {
      policy: { name: 'finance-data-access', version: `2026.${1 + (i % 4)}` },
      grants: [
        { permission: 'file.read', resource: '/finance/payroll/**', granted_by: 'role:payroll-analyst', grant_id: `g-${5521 + (u % 3)}` },
        { permission: 'transfer.sftp', resource: '*', granted_by: 'group:vpn-users', grant_id: 'g-0042' },
      ],
    },
    context: { request_id: `req-${i.toString(36)}`, region: i % 3 === 0 ? 'eu-west' : 'us-east', client_version: '4.12.0' },
  };
}

/**
 * The same fully attributed event every time, but for its id: for tests that
 * edit known member values in its canonical text.
 */
export function fixedEvent(i = 0): EventV1 {
  return {
    id: `evt-${String(i).padStart(8, '0')}`,
    time: '2026-11-26T09:15:02.123Z',
    action: 'file.download',
    outcome: 'success',
    actor: {
      id: 'u-48213',
      type: 'user',
      name: 'Dana Whitfield',
      email: 'dana.whitfield@forthbridge.example',
      session_id: 'sess-7f3a9c21b6',
      auth_method: 'sso',
      mfa: true,
      federation: { provider: 'okta', issuer: 'https://forthbridge.okta.example/oauth2/default', subject: '00u1abcd2EFGH3ijk4l5', protocol: 'saml' },
    },
    source: { ip: '203.0.113.47', port: 52144, hostname: 'vpn-gw-2.forthbridge.example', user_agent: 'WinSCP/6.3.5 (SFTP)' },
    target: { ...PAYROLL_FILE, tags: [...PAYROLL_FILE.tags] },
    transfer: { protocol: 'sftp', direction: 'download', bytes: 1843221, peer: 'sftp.forthbridge.example:22' },
    authorization: {
      policy: { name: 'finance-data-access', version: '2026.3' },
      grants: [
        { permission: 'file.read', resource: '/finance/payroll/**', granted_by: 'role:payroll-analyst', grant_id: 'g-5521' },
        { permission: 'transfer.sftp', resource: '*', granted_by: 'group:vpn-users', grant_id: 'g-0042' },
      ],
    },
    context: { request_id: 'req-2f9e61', region: 'eu-west', client_version: '4.12.0' },
  };
}
