// Verifies a bundle given as three browser File/Blob objects with
// @trailseal/verify's openBundle and BundleReader, as verifyBundle does. The events file
// is read as a stream so that a file of hundreds of megabytes is never one
// buffer in memory, and the caller gets progress between chunks.
import { TrailsealError } from '@trailseal/format';
import { BundleReader, openBundle, type BundleOptions, type BundleReport } from '@trailseal/verify';

export interface BundleBlobs {
  readonly manifest: Blob | undefined;
  readonly signature: Blob | undefined;
  readonly events: Blob | undefined;
}

export interface VerifyFilesOptions extends BundleOptions {
  /** Called between chunks of the events file: bytes read so far and its size. */
  readonly progress?: (done: number, total: number) => void;
  /** Awaited now and then so that the page can repaint during a long verification. */
  readonly pause?: () => Promise<void>;
}

function unusable(message: string): TrailsealError {
  return new TrailsealError('BUNDLE_UNUSABLE', message);
}

/** Milliseconds of work between pauses: long enough to be efficient, short enough to keep the page responsive. */
const SLICE_MS = 40;

/**
 * Throws BUNDLE_UNUSABLE when a file is missing or the manifest is not a
 * bundle manifest at all; otherwise every problem is in the report.
 */
export async function verifyBundleBlobs(files: BundleBlobs, opts: VerifyFilesOptions): Promise<BundleReport> {
  if (files.manifest === undefined) throw unusable('manifest.json is missing: give all three files of the bundle');
  if (files.signature === undefined) throw unusable('manifest.sig is missing: give all three files of the bundle');
  if (files.events === undefined) throw unusable('events.jsonl is missing: give all three files of the bundle');
  const [manifest, signature] = await Promise.all([files.manifest.text(), files.signature.text()]);
  const bundle = new BundleReader(openBundle(manifest, signature, opts));

  const total = files.events.size;
  const reader = files.events.stream().getReader();
  let done = 0;
  let sliceStart = performance.now();
  opts.progress?.(0, total);
  for (;;) {
    const next = await reader.read();
    if (next.done) break;
    bundle.push(next.value);
    done += next.value.byteLength;
    if (performance.now() - sliceStart > SLICE_MS) {
      opts.progress?.(done, total);
      await opts.pause?.();
      sliceStart = performance.now();
    }
  }
  opts.progress?.(done, total);
  return bundle.end();
}
