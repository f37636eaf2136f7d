import { PassThrough, type Readable } from 'node:stream';
import type Docker from 'dockerode';
import { errorMessage } from '../errors.ts';
import { DeadlineError, withDeadline } from '../transport/deadline.ts';
import { imageFactsOf, imageStoreOf, type ImageFacts, type ImageStore } from './image-plan.ts';

/**
 * Loading images into an engine, the one place it is done: `swarmup image load` (a `docker save` stream of the
 * local engine) and the smoke test (its probe image, made in memory) both load through loadImageStream and ask the
 * engine afterwards which ID it gave the image (never assumed: it depends on the engine's image store).
 */

/** Nothing moved for this long: the load is stuck (a wedged engine or connection), and is aborted. */
const IDLE_MS = 60_000;

export interface LoadOptions {
  /** The whole load (upload and the engine's answer) ends by then. */
  deadlineMs: number;
  /** Aborted when no byte moves for this long (default 60 s). */
  idleMs?: number;
}

/**
 * POST /images/load with `source` as the body, streamed (never held whole in memory), bounded by a deadline and an
 * idle watchdog that abort the request. The engine reports a bad archive in the body, not the status: it is read
 * for errors. Throws naming the bytes sent and why it stopped.
 */
export async function loadImageStream(
  docker: Docker,
  source: Readable,
  opts: LoadOptions,
): Promise<{ bytes: number }> {
  const abort = new AbortController();
  const idleMs = opts.idleMs ?? IDLE_MS;
  let bytes = 0;
  let lastMove = Date.now();
  let why: Error | undefined;
  const stop = (err: Error) => {
    why ??= err;
    abort.abort();
    source.destroy();
  };
  const counted = new PassThrough();
  counted.on('data', (d: Buffer) => {
    bytes += d.length;
    lastMove = Date.now();
  });
  source.on('error', (err) => stop(new Error(`the image stream failed: ${errorMessage(err)}`)));
  source.pipe(counted);
  const deadline = Date.now() + opts.deadlineMs;
  const watch = setInterval(
    () => {
      const now = Date.now();
      if (now - lastMove > idleMs)
        stop(new DeadlineError(`no byte moved for ${idleMs / 1000} s (${bytes} bytes sent)`));
      else if (now > deadline)
        stop(new DeadlineError(`not loaded within ${opts.deadlineMs / 1000} s (${bytes} bytes sent)`));
    },
    Math.min(1_000, idleMs),
  );
  watch.unref();
  try {
    // docker.modem, not docker.loadImage: the client's per-call deadline would cut a long upload short.
    const response = await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
      docker.modem.dial(
        {
          path: '/images/load?',
          method: 'POST',
          options: { quiet: true },
          file: counted,
          isStream: true,
          abortSignal: abort.signal,
          statusCodes: { 200: true, 500: 'server error' },
        },
        (err: unknown, res: unknown) => (err ? reject(err as Error) : resolve(res as NodeJS.ReadableStream)),
      ),
    );
    const body = await withDeadline(
      readAll(response),
      Math.max(1_000, deadline - Date.now()),
      'the Docker engine: image load',
    );
    const error = /"error(?:Detail)?":\s*(\{[^}]*\}|"[^"]*")/.exec(body);
    if (error) throw new Error(`image load: ${error[1]}`);
    return { bytes };
  } catch (err) {
    throw why ?? err;
  } finally {
    clearInterval(watch);
    // A load that failed early leaves the rest of the save stream unread: its connection is closed, not left open.
    if (!source.readableEnded) source.destroy();
  }
}

/**
 * `docker save` of the refs (GET /images/get): a tar stream of them, as POST /images/load reads it. The engine
 * answers once it has exported them (the classic store writes them out first): `ms` bounds that wait.
 */
export function saveImages(docker: Docker, refs: string[], ms: number): Promise<Readable> {
  const saved = new Promise<Readable>((resolve, reject) =>
    docker.modem.dial(
      {
        path: '/images/get?',
        method: 'GET',
        options: { names: refs },
        isStream: true,
        statusCodes: { 200: true, 500: 'server error' },
      },
      (err: unknown, res: unknown) => (err ? reject(err as Error) : resolve(res as Readable)),
    ),
  );
  return withDeadline(saved, ms, 'the local Docker engine: docker save');
}

/** The ID this engine gives the image it loaded under `ref` (GET /images/{ref}/json). */
export async function loadedImageId(docker: Docker, ref: string): Promise<string> {
  const inspect = (await docker.getImage(ref).inspect()) as { Id?: string };
  if (!inspect.Id) throw new Error(`image ${ref}: loaded, but the engine reports no ID for it`);
  return inspect.Id;
}

/** What the engine holds under `ref`; undefined when it holds nothing by that name. */
export async function imageOn(docker: Docker, ref: string): Promise<ImageFacts | undefined> {
  try {
    return imageFactsOf((await docker.getImage(ref).inspect()) as Parameters<typeof imageFactsOf>[0]);
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

/** The engine's image store (its /info). */
export async function imageStore(docker: Docker): Promise<ImageStore> {
  return imageStoreOf((await docker.info()) as Parameters<typeof imageStoreOf>[0]);
}

/** A stream's whole text (an engine's answer body, a probe's output): at its end, or when it closes without one. */
export function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    stream.on('data', (d: Buffer | string) => parts.push(Buffer.from(d)));
    stream.on('end', () => resolve(Buffer.concat(parts).toString()));
    stream.on('close', () => resolve(Buffer.concat(parts).toString()));
    stream.on('error', reject);
  });
}
