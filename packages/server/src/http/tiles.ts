// A read-only c2sp.org/tlog-tiles view of each tenant's log, for monitors and
// witnesses that speak it. Prefix: /v1/tlog/<tenant>/ (the key must belong to
// that tenant and have the read scope):
//
//   checkpoint                      the latest signed checkpoint (mutable)
//   tile/<L>/<N>[.p/<W>]            256 (or W) hashes of tree level 8*L, from index N*256
//   tile/entries/<N>[.p/<W>]        the record bytes of leaves N*256 ..., each with a
//                                   big-endian uint16 length prefix
//
// Tiles are built from the stored tree nodes: the hash at position i of tile
// (L, N) is the perfect node of level 8*L and index N*256 + i, i.e.
// MTH(D[(N*256 + i) * 256^L : (N*256 + i + 1) * 256^L]) (tlog-tiles, "Merkle Tree").
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TrailsealError, type NodeId } from '@trailseal/format';
import type { LogService } from '../log/service.js';

const WIDTH = 256;

export interface TilesOptions {
  readonly service: LogService;
  /** Authenticates the request for `scope` and returns the key's tenant (throws otherwise). */
  readonly authorize: (req: FastifyRequest) => Promise<string>;
  /** Records a read of audit data (entry bundles). */
  readonly auditRead: (req: FastifyRequest, operation: string, query: Record<string, unknown>, count: number) => Promise<void>;
}

interface TilePath {
  readonly level: number;
  readonly index: number;
  /** Number of hashes or entries: 256 for a full tile. */
  readonly width: number;
}

/** Parses `<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]` per tlog-tiles; undefined when malformed. */
export function parseTilePath(path: string): { entries: boolean; tile: TilePath } | undefined {
  const m = /^(entries|0|[1-9]\d?)\/((?:x\d{3}\/)*\d{3})(?:\.p\/([1-9]\d{0,2}))?$/.exec(path);
  if (m === null) return undefined;
  const entries = m[1] === 'entries';
  const level = entries ? 0 : Number(m[1]);
  const width = m[3] === undefined ? WIDTH : Number(m[3]);
  if (level > 63 || width > WIDTH - (m[3] === undefined ? 0 : 1)) return undefined;
  const parts = m[2]!.split('/');
  let index = 0;
  for (const p of parts) index = index * 1000 + Number(p.replace('x', ''));
  // Zero-padded groups of three with no superfluous leading group: "x000/001" is not 1.
  if (parts.length > 1 && parts[0] === 'x000') return undefined;
  if (!Number.isSafeInteger(index)) return undefined;
  return { entries, tile: { level, index, width } };
}

export function registerTiles(app: FastifyInstance, opts: TilesOptions): void {
  const svc = opts.service;
  const tenantOf = async (req: FastifyRequest): Promise<string> => {
    const own = await opts.authorize(req);
    const asked = (req.params as { tenant: string }).tenant;
    if (asked !== own) throw new TrailsealError('FORBIDDEN', `this API key reads tenant ${own}, not ${asked}`, { scope: 'read' });
    return own;
  };

  app.get('/v1/tlog/:tenant/checkpoint', async (req, reply) => {
    const cp = await svc.store.latestCheckpoint(await tenantOf(req));
    if (cp === undefined) throw new TrailsealError('NOT_FOUND', 'no checkpoint yet');
    reply.header('cache-control', 'no-cache, max-age=1').type('text/plain; charset=utf-8').send(cp.note);
  });

  app.get('/v1/tlog/:tenant/tile/*', async (req, reply) => {
    const tenant = await tenantOf(req);
    const parsed = parseTilePath((req.params as { '*': string })['*']);
    if (parsed === undefined) throw new TrailsealError('QUERY_INVALID', 'not a tlog-tiles path: tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]', { field: 'path' });
    const { tile } = parsed;
    const head = await svc.store.getHead(tenant);
    const size = head?.size ?? 0;
    // The tile's hashes are nodes of level 8L; it exists once its last one is complete.
    const span = 256 ** tile.level;
    const first = tile.index * WIDTH;
    if ((first + tile.width) * span > size) throw new TrailsealError('NOT_FOUND', `the tree (size ${size}) does not yet hold this tile`, { field: 'path' });
    if (parsed.entries) {
      const rows = await svc.store.listRecords(tenant, { fromSeq: first, toSeq: first + tile.width, limit: tile.width });
      const parts: Buffer[] = [];
      for (const r of rows) {
        const bytes = Buffer.from(r.canonical, 'utf8');
        if (bytes.length > 0xffff) throw new TrailsealError('INTERNAL', `record ${r.seq} is longer than an entry bundle can hold`);
        const len = Buffer.allocUnsafe(2);
        len.writeUInt16BE(bytes.length);
        parts.push(len, bytes);
      }
      await opts.auditRead(req, 'tile-entries', { index: tile.index, width: tile.width }, rows.length);
      reply.header('cache-control', 'public, max-age=31536000, immutable').type('application/octet-stream').send(Buffer.concat(parts));
      return;
    }
    const ids: NodeId[] = Array.from({ length: tile.width }, (_, i) => ({ level: 8 * tile.level, index: first + i }));
    const hashes = await svc.store.getNodes(tenant, ids);
    reply.header('cache-control', 'public, max-age=31536000, immutable').type('application/octet-stream').send(Buffer.concat(hashes));
  });
}
