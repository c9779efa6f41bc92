// A webhook receiver for the streaming tests: a real HTTP server that checks
// every message with the `standardwebhooks` package, keeps what it
// acknowledges, and fails or stalls on demand.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Delivered {
  readonly seq: number;
  readonly tenant: string;
  readonly leaf_hash: string;
  readonly origin: string;
  readonly record: Record<string, unknown>;
}

/** A webhook receiver: verifies each message's signature, stores what it acknowledges, fails or stalls on demand. */
export class Receiver {
  readonly events = new Map<number, Delivered>();
  readonly order: number[] = [];
  readonly checkpoints: { size: number; checkpoint: string; tenant: string }[] = [];
  readonly ids = new Set<string>();
  status = 200;
  delayMs = 0;
  badSignatures = 0;
  requests = 0;
  secret = '';
  readonly #server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.requests++;
      const body = Buffer.concat(chunks).toString('utf8');
      const answer = (): void => {
        // Until the test knows the secret (the creation answer can arrive after
        // the first delivery), the receiver is "not ready": the sink retries.
        if (this.status !== 200 || this.secret === '') {
          res.writeHead(this.secret === '' ? 503 : this.status).end();
          return;
        }
        try {
          new Webhook(this.secret).verify(body, req.headers as Record<string, string>);
        } catch {
          this.badSignatures++;
          res.writeHead(401).end();
          return;
        }
        const msg = JSON.parse(body) as { type: string; events?: Delivered[]; checkpoint?: string; size?: number; tenant: string };
        this.ids.add(String(req.headers['webhook-id']));
        if (msg.type === 'trailseal.events') {
          for (const e of msg.events!) {
            this.order.push(e.seq);
            this.events.set(e.seq, e);
          }
        } else if (msg.type === 'trailseal.checkpoint') {
          this.checkpoints.push({ size: msg.size!, checkpoint: msg.checkpoint!, tenant: msg.tenant });
        }
        res.writeHead(204).end();
      };
      if (this.delayMs > 0) setTimeout(answer, this.delayMs);
      else answer();
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hook`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}

export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Whether the receiver holds every seq in [from, to). */
export function contiguous(r: Receiver, from: number, to: number): boolean {
  for (let s = from; s < to; s++) if (!r.events.has(s)) return false;
  return true;
}
