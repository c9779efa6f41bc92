// The kinds of sink (docs/streaming.md): how each validates its settings,
// which secret it takes, and the transport that delivers to it. A kind is
// added by writing its transport module and registering it here.
import type { StreamFormat } from './formats.js';
import type { DeliveryBatch, Transport } from './engine.js';
import { syslogKind } from './syslog.js';
import { webhookKind } from './webhook.js';
import { splunkKind, sumoKind } from './collectors.js';
import { natsKind } from './nats.js';

export interface TransportContext {
  readonly format: StreamFormat;
  /** Event `i` of a batch in the sink's format: a JSON text (json, ocsf) or a CEF line (cef). */
  formatEvent(batch: DeliveryBatch, index: number): string;
}

export interface SinkKindSpec {
  readonly kind: string;
  /**
   * The secret a sink of this kind holds: `generated` by the service and
   * shown once (a signing key); `provided` in the request's `secret` (a
   * token the receiver issued), `optional`ly so; or `none`. Stored only
   * encrypted under a key the key wrapper wraps.
   */
  readonly secret: 'generated' | 'provided' | 'optional' | 'none';
  /** Validates the request's `config` (QUERY_INVALID naming `config.<member>`); returns what is stored. */
  parseConfig(config: unknown): Record<string, unknown>;
  /**
   * Checks a secret given in the request, when its form is known (a URL):
   * throws an Error whose message says what is wrong without repeating the
   * secret. A sink is then refused at creation, not failing at delivery.
   */
  checkSecret?(secret: string): void;
  /** A new secret, for `generated` kinds. */
  generateSecret?(): string;
  transport(config: Record<string, unknown>, secret: string | undefined, ctx: TransportContext): Transport;
}

export const SINK_KIND_SPECS: Readonly<Record<string, SinkKindSpec>> = {
  webhook: webhookKind,
  splunk: splunkKind,
  sumo: sumoKind,
  syslog: syslogKind,
  nats: natsKind,
};
