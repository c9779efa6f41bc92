// The client compiles with no host typings (no DOM, no @types/node), so that
// any use of a host-only API (Buffer, process, node:*) is a compile error and
// the package runs unchanged in browsers, Deno, Bun and Node.js >= 18. These
// are the only host globals it relies on, declared as narrowly as it uses them.
// Consumers resolve `typeof fetch` & co. against their own DOM or Node typings.

interface Headers {
  get(name: string): string | null;
}

interface Response {
  readonly status: number;
  readonly headers: Headers;
  text(): Promise<string>;
}

interface AbortSignal {
  readonly aborted: boolean;
}

interface RequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

declare function fetch(input: string, init?: RequestInit): Promise<Response>;

declare class AbortController {
  readonly signal: AbortSignal;
  abort(reason?: unknown): void;
}

declare function setTimeout(callback: () => void, ms?: number): unknown;
declare function clearTimeout(handle: ReturnType<typeof setTimeout> | undefined): void;

// Web Crypto: randomUUID needs a secure context in browsers, so ids.ts falls
// back to getRandomValues.
declare var crypto:
  | {
      randomUUID?(): string;
      getRandomValues<T extends Uint8Array>(array: T): T;
    }
  | undefined;
