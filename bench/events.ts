// A realistic, fully attributed file-transfer event, shared by tests and benches.
import type { EventV1 } from '@trailseal/format';

export function richEvent(i = 0): EventV1 {
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
    target: {
      type: 'file',
      id: 'f-0192-77ab',
      name: 'Q3-payroll-export.csv',
      path: '/finance/payroll/2026/Q3-payroll-export.csv',
      version: '7',
      sha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      size: 1843221,
      tags: ['PII', 'finance'],
      owner: 'finance-ops',
    },
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
