// @trailseal/verify: offline, synchronous verification. Trust (keys, earlier
// checkpoints) comes in as arguments; input is attacker-controlled text.
export type { Problem } from './problems.js';
export { ProblemList } from './problems.js';
export { SegmentVerifier, segmentFromData, segmentToData, verifySegment, type SegmentData, type SegmentOptions, type SegmentResult } from './segment.js';
export { combineSegments, keyForSize, type KeyEpoch, type LogReport, type LogStart, type VerifyLogOptions } from './combine.js';
export { verifyCheckpointConsistency, verifyLog, verifyReceipt, type ConsistencyReport, type ReceiptOptions, type ReceiptReport } from './log.js';
export {
  BundleReader,
  EventsDigest,
  FilteredVerifier,
  LineSplitter,
  bundleSegmentOptions,
  describeSelection,
  finishBundle,
  openBundle,
  verifyBundle,
  type BundleEvents,
  type BundleFiles,
  type BundleOptions,
  type BundleReport,
  type EventsDigestResult,
  type OpenedBundle,
} from './bundle.js';
