// An ingest thread (ingest.ts): prepares the POST /v1/events bodies it is
// sent, exactly as the event loop would, and answers with the packed events
// or with the error the event loop would have thrown.
import { workerData } from 'node:worker_threads';
import { TrailsealError } from '@trailseal/format';
import { serveRequests } from '../thread.js';
import { prepareEventsInPlace, type BodyKind, type BodyLimits } from './body.js';
import { packEvents, packedBuffers, type PackedEvents } from './ingest.js';

const limits = workerData as BodyLimits;
serveRequests(
  (op, args) => {
    if (op !== 'prepare') throw new TrailsealError('INTERNAL', `an ingest thread has no operation ${op}`);
    // The body is the start of a buffer twice its size, handed over: the
    // reader writes its output after the body, and the whole buffer goes back.
    return packEvents(prepareEventsInPlace(args[0] as Uint8Array, args[1] as number, args[2] as BodyKind, limits));
  },
  (result) => packedBuffers(result as PackedEvents),
);
