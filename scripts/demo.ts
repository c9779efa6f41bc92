// npm start, until the service lands: seals a few events into a fresh log with
// random keys, prints the checkpoint and a receipt, and verifies them offline.
import { LogSealer, MemoryNodeStore, cryptoProvider, formatTlogProof, inclusionProof, parseEvent } from '@trailseal/format';
import { verifyLog, verifyReceipt } from '@trailseal/verify';

const c = cryptoProvider();
const sealer = new LogSealer({ tenant: 'demo', origin: 'localhost/tenants/demo', tenantKey: c.randomBytes(32), signingSeed: c.randomBytes(32) });
const store = new MemoryNodeStore();
const lines: string[] = [];
const keep = (s: ReturnType<LogSealer['append']>): void => {
  lines.push(s.canonical);
  for (const n of s.nodes) store.put(n.id, n.hash);
};
keep(sealer.genesis(Date.now()));
for (let i = 1; i <= 5; i++) {
  keep(sealer.append(parseEvent({ id: `demo-${i}`, time: new Date().toISOString(), action: 'file.download', outcome: 'success', actor: { id: 'u-1', type: 'user' }, target: { type: 'file', name: `report-${i}.pdf` } }), Date.now()));
}
const checkpoint = sealer.checkpoint();
const report = verifyLog(lines, { trustedKeys: [sealer.verifierKey], checkpoint });
const receipt = formatTlogProof({ index: 3, proof: inclusionProof(store, 3, lines.length), checkpoint });
const single = verifyReceipt(lines[3]!, receipt, { trustedKeys: [sealer.verifierKey] });
console.log(`verifier key: ${sealer.verifierKey}\n\n${checkpoint}\nreceipt for seq 3:\n${receipt}`);
console.log(`log: ${report.ok ? 'PASS' : 'FAIL'} (${report.count} records); receipt: ${single.ok ? 'PASS' : 'FAIL'}`);
console.log('The HTTP service (`trailseal serve`) is not built yet; see README.md.');
process.exitCode = report.ok && single.ok ? 0 : 1;
