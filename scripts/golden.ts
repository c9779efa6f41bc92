// The golden log: ~20 richly attributed records of one tenant, sealed with
// fixed test keys at fixed times, with checkpoints, receipts and consistency
// proofs. Deterministic (Ed25519 signatures are deterministic, RFC 8032), so
// `npm run vectors` reproduces the committed files byte for byte and a test
// checks that it does. Every later test may load fixtures/golden/.
import {
  LogSealer,
  MemoryNodeStore,
  consistencyProof,
  cryptoProvider,
  deriveSigningSeed,
  deriveTenantKey,
  formatTlogProof,
  inclusionProof,
  parseEvent,
  toBase64,
  toHex,
  utf8,
  type EventV1,
  type MacKey,
} from '@trailseal/format';
import { PAYROLL_FILE } from '../test-support/events.js';

/** TEST KEYS ONLY. Never use these for a real log. */
export const GOLDEN = {
  rootKeyHex: toHex(cryptoProvider().sha256(utf8('trailseal golden root key (test only)'))),
  tenant: 'acme',
  origin: 'log.example.com/tenants/acme',
  /** 2026-11-26T23:59:52.000Z: the log crosses midnight UTC, so two MAC epochs. */
  startMs: Date.UTC(2026, 10, 26, 23, 59, 52),
} as const;

const base = {
  actor: { id: 'u-48213', type: 'user', name: 'Dana Whitfield', email: 'dana.whitfield@forthbridge.example', session_id: 'sess-7f3a9c21b6', auth_method: 'sso', mfa: true, federation: { provider: 'okta', issuer: 'https://forthbridge.okta.example', subject: '00u1abcd2EFGH3ijk4l5', protocol: 'saml' } },
  source: { ip: '203.0.113.47', port: 52144, hostname: 'vpn-gw-2.forthbridge.example', user_agent: 'WinSCP/6.3.5' },
} as const;

const payroll = { ...PAYROLL_FILE, tags: [...PAYROLL_FILE.tags] };
const financePolicy = { name: 'finance-data-access', version: '2026.3' };
const readGrant = { permission: 'file.read', resource: '/finance/payroll/**', granted_by: 'role:payroll-analyst', grant_id: 'g-5521' };

/** The producer events, in order; `null` marks where the log rotates a key. */
function events(): (EventV1 | 'rotate-signing' | 'rotate-mac')[] {
  const e = (i: number, rest: Record<string, unknown>): EventV1 =>
    parseEvent({ id: `evt-${String(i).padStart(4, '0')}`, time: new Date(GOLDEN.startMs + i * 1000 - 250).toISOString(), ...base, ...rest });
  return [
    e(1, { action: 'auth.login', outcome: 'success' }),
    e(2, { action: 'file.upload', outcome: 'success', target: payroll, transfer: { protocol: 'sftp', direction: 'upload', bytes: 1843221, peer: 'sftp.forthbridge.example:22' }, authorization: { policy: financePolicy, grants: [{ ...readGrant, permission: 'file.write' }] } }),
    e(3, { action: 'file.download', outcome: 'success', target: payroll, transfer: { protocol: 'sftp', direction: 'download', bytes: 1843221 }, authorization: { policy: financePolicy, grants: [readGrant] } }),
    e(4, { action: 'file.download', outcome: 'denied', actor: { id: 'u-7781', type: 'user', name: 'Sam Ortiz', auth_method: 'password', mfa: false }, source: { ip: '2001:db8:85a3::8a2e:370:7334', port: 443 }, target: payroll, transfer: { protocol: 'https', direction: 'download', bytes: 0 }, authorization: { policy: financePolicy, grants: [] }, context: { reason: 'no grant matches /finance/payroll/**' } }),
    e(5, { action: 'share.create', outcome: 'success', target: { ...payroll, tags: ['PII', 'finance', 'external-share'] }, context: { share_id: 'sh-31', expires: '2026-12-03T00:00:00Z', recipient: 'auditor@cpa-firm.example' } }),
    e(6, { action: 'auth.login', outcome: 'failure', actor: { id: 'svc-as2-partner', type: 'service', auth_method: 'certificate', federation: { provider: 'partner-pki', subject: 'CN=edi.partner.example', protocol: 'local' } }, source: { ip: '198.51.100.7', hostname: 'edi.partner.example' }, context: { error: 'certificate expired' } }),
    'rotate-signing',
    e(7, { action: 'file.transfer', outcome: 'success', actor: { id: 'svc-as2-partner', type: 'service', auth_method: 'certificate' }, source: { ip: '198.51.100.7' }, target: { type: 'file', name: 'PO-88123.edi', sha256: '2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae', size: 4096, tags: ['EDI'] }, transfer: { protocol: 'as2', direction: 'upload', bytes: 4096, peer: 'as2.partner.example' } }),
    e(8, { action: 'policy.update', outcome: 'success', actor: { id: 'u-1001', type: 'user', name: 'Lee Admin', auth_method: 'sso', mfa: true, federation: { provider: 'entra', issuer: 'https://login.microsoftonline.example/tenant/v2.0', subject: 'lee@forthbridge.example', protocol: 'oidc' } }, target: { type: 'policy', id: 'finance-data-access', version: '2026.4' }, context: { change: 'add grant g-5522', ticket: 'CHG-2211' } }),
    e(9, { action: 'grant.create', outcome: 'success', actor: { id: 'u-1001', type: 'user', name: 'Lee Admin' }, target: { type: 'grant', id: 'g-5522' }, authorization: { policy: { name: 'finance-data-access', version: '2026.4' }, grants: [{ permission: 'policy.admin', resource: 'policy:*', granted_by: 'role:security-admin', grant_id: 'g-0001' }] } }),
    e(10, { action: 'file.download', outcome: 'success', target: payroll, transfer: { protocol: 'https', direction: 'download', bytes: 1843221 }, authorization: { policy: { name: 'finance-data-access', version: '2026.4' }, grants: [readGrant] } }),
    e(11, { action: 'file.delete', outcome: 'error', target: { type: 'file', path: '/tmp/export-old.csv' }, context: { error: 'EBUSY' } }),
    'rotate-mac',
    e(12, { action: 'api.call', outcome: 'success', actor: { id: 'key-ci-bot', type: 'service', auth_method: 'api_key' }, source: { ip: '10.0.4.12', user_agent: 'trailseal-sdk/0.1' }, transfer: { protocol: 'api', direction: 'internal' }, context: { endpoint: 'GET /v1/files', status: 200, 'ünïcödé ✓': '東京 🚀' } }),
    e(13, { action: 'file.download', outcome: 'success', actor: { id: 'anon', type: 'anonymous' }, source: { ip: '192.0.2.200' }, target: { type: 'file', name: 'public-notice.pdf', size: 20000 }, transfer: { protocol: 'https', direction: 'download', bytes: 20000 } }),
    e(14, { action: 'auth.logout', outcome: 'success' }),
    e(15, { action: 'session.expire', outcome: 'success', actor: { id: 'u-7781', type: 'user' }, context: { idle_seconds: 1800 } }),
    e(16, { action: 'file.upload', outcome: 'failure', target: { type: 'file', name: 'huge.bin', size: 0 }, transfer: { protocol: 'ftps', direction: 'upload', bytes: 0 }, context: { error: 'quota exceeded', quota_bytes: 10737418240 } }),
  ];
}

export interface GoldenLog {
  readonly rootKeyHex: string;
  readonly tenant: string;
  readonly origin: string;
  /** Verifier keys in the order they came into force. */
  readonly verifierKeys: string[];
  readonly records: string[];
  readonly leafHashes: string[];
  /** Signed checkpoints at these sizes. */
  readonly checkpoints: { size: number; note: string }[];
  /** tlog-proof receipt of every record against the last checkpoint. */
  readonly receipts: string[];
  /** Consistency proofs between consecutive checkpoints (base64 hashes). */
  readonly consistency: { from: number; to: number; proof: string[] }[];
  /** MAC epoch keys of the whole log (disclosed to auditors only on request). */
  readonly macKeys: { id: string; keyHex: string }[];
}

export function buildGoldenLog(): GoldenLog {
  const root = Uint8Array.from(Buffer.from(GOLDEN.rootKeyHex, 'hex'));
  const tenantKey = deriveTenantKey(root, GOLDEN.tenant);
  const sealer = new LogSealer({ tenant: GOLDEN.tenant, origin: GOLDEN.origin, tenantKey, signingSeed: deriveSigningSeed(tenantKey, 0) });
  const store = new MemoryNodeStore();
  const records: string[] = [];
  const leafHashes: string[] = [];
  const verifierKeys = [sealer.verifierKey];
  const checkpoints: { size: number; note: string }[] = [];
  const macKeys = new Map<string, MacKey>();
  let t = GOLDEN.startMs;
  const keep = (s: ReturnType<LogSealer['append']>): void => {
    records.push(s.canonical);
    leafHashes.push(toBase64(s.leafHash));
    for (const n of s.nodes) store.put(n.id, n.hash);
    const id = s.record.mac_key_id;
    const [, epoch, gen] = id.split(':');
    macKeys.set(id, sealer.macKey(epoch!, Number(gen!.slice(1))));
    if ([4, 9, 14].includes(records.length)) checkpoints.push({ size: records.length, note: sealer.checkpoint() });
  };
  keep(sealer.genesis(t));
  let signingGeneration = 0;
  for (const ev of events()) {
    t += 1000;
    if (ev === 'rotate-signing') {
      signingGeneration++;
      keep(sealer.rotateSigningKey(deriveSigningSeed(tenantKey, signingGeneration), t));
      verifierKeys.push(sealer.verifierKey);
    } else if (ev === 'rotate-mac') {
      keep(sealer.rotateMacKeys(t));
    } else {
      keep(sealer.append(ev, t));
    }
  }
  checkpoints.push({ size: records.length, note: sealer.checkpoint() });
  const last = checkpoints[checkpoints.length - 1]!;
  const receipts = records.map((_, i) => formatTlogProof({ index: i, proof: inclusionProof(store, i, last.size), checkpoint: last.note }));
  const consistency = checkpoints.slice(1).map((cp, i) => ({
    from: checkpoints[i]!.size,
    to: cp.size,
    proof: consistencyProof(store, checkpoints[i]!.size, cp.size).map(toBase64),
  }));
  return {
    rootKeyHex: GOLDEN.rootKeyHex,
    tenant: GOLDEN.tenant,
    origin: GOLDEN.origin,
    verifierKeys,
    records,
    leafHashes,
    checkpoints,
    receipts,
    consistency,
    macKeys: [...macKeys.values()].map((k) => ({ id: k.id, keyHex: toHex(k.key) })),
  };
}
