import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { AlphalakeError } from '../../domain/index.js';
import { joinKey, type ByteRange, type ObjectInfo, type ObjectStore } from './object-store.js';

/**
 * An object store over S3 (or any S3-compatible server). Commits use a conditional
 * `PutObject` with `If-None-Match: *`: the server answers 412 when the commit file
 * already exists, which is exactly the put-if-absent the Delta protocol needs
 * (PROTOCOL.md "Delta Log Entries"; AWS S3 supports it since August 2024).
 *
 * DuckDB reads Parquet from local paths only here, so data files and checkpoints are
 * cached on local disk by key (they are immutable) within `cacheMaxBytes`.
 */
export interface S3ObjectStoreOptions {
  readonly bucket: string;
  /** Key prefix inside the bucket. @default '' */
  readonly prefix?: string;
  readonly endpoint?: string;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default true when `endpoint` is set */
  readonly forcePathStyle?: boolean;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Local folder for cached objects and staged uploads. */
  readonly cacheDir: string;
  /** @default 10 GiB */
  readonly cacheMaxBytes?: number;
  /** An S3 client to use instead of building one (tests, custom middleware). */
  readonly client?: S3Client;
}

export function s3ObjectStore(input: S3ObjectStoreOptions): ObjectStore {
  const options = Object.freeze({ ...input });
  const client =
    options.client ??
    new S3Client({
      region: options.region ?? 'us-east-1',
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
      credentials: options.credentials,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  const bucket = options.bucket;
  const full = (key: string): string => joinKey(options.prefix ?? '', key);
  const cacheRoot = path.resolve(options.cacheDir, 'objects', bucket, options.prefix ?? '');
  const stagingRoot = path.resolve(options.cacheDir, 'staging');
  const cacheMax = options.cacheMaxBytes ?? 10 * 1024 ** 3;
  const cached = new Map<string, { size: number; used: number }>();
  let cachedBytes = 0;
  const downloads = new Map<string, Promise<string>>();

  const cachePath = (key: string): string => {
    const file = path.resolve(cacheRoot, key);
    if (!file.startsWith(cacheRoot + path.sep))
      throw new AlphalakeError('BAD_USER_INPUT', `bad key ${key}`);
    return file;
  };

  async function remember(key: string, size: number): Promise<void> {
    const previous = cached.get(key);
    if (previous) cachedBytes -= previous.size;
    cached.set(key, { size, used: Date.now() });
    cachedBytes += size;
    if (cachedBytes <= cacheMax) return;
    // Evict least recently used files, sparing any used in the last minute (a query may be reading them).
    const entries = [...cached.entries()].sort((a, b) => a[1].used - b[1].used);
    for (const [victim, entry] of entries) {
      if (cachedBytes <= cacheMax || Date.now() - entry.used < 60_000) break;
      cached.delete(victim);
      cachedBytes -= entry.size;
      await rm(cachePath(victim), { force: true });
    }
  }

  async function getBytes(
    key: string,
    range: ByteRange | undefined,
    signal?: AbortSignal,
  ): Promise<Uint8Array> {
    try {
      const response = await client.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: full(key),
          Range: range ? `bytes=${range.start}-${range.end - 1}` : undefined,
        }),
        { abortSignal: signal },
      );
      return (await response.Body?.transformToByteArray()) ?? new Uint8Array(0);
    } catch (error) {
      if (statusOf(error) === 404)
        throw new AlphalakeError('NOT_FOUND', `no object ${key} in s3://${bucket}`);
      throw error;
    }
  }

  return {
    capabilities: Object.freeze({ supportsConditionalPut: true, isLocal: false }),
    description: `s3://${joinKey(bucket, options.prefix ?? '')}`,

    async putIfAbsent(key, bytes, signal) {
      try {
        await client.send(
          new PutObjectCommand({ Bucket: bucket, Key: full(key), Body: bytes, IfNoneMatch: '*' }),
          { abortSignal: signal },
        );
        return true;
      } catch (error) {
        const status = statusOf(error);
        // 412: the object exists. 409: a concurrent conditional write to the same key is in flight.
        if (status === 412 || status === 409) return false;
        throw error;
      }
    },

    async put(key, bytes, signal) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: full(key), Body: bytes }), {
        abortSignal: signal,
      });
    },

    async putFile(key, localFile, signal) {
      const bytes = await readFile(localFile);
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: full(key), Body: bytes }), {
        abortSignal: signal,
      });
      // The written file is the object's bytes: keep it as the cached copy.
      const target = cachePath(key);
      await mkdir(path.dirname(target), { recursive: true });
      await rename(localFile, target);
      await remember(key, bytes.length);
    },

    get: getBytes,

    async head(key, signal) {
      try {
        const response = await client.send(
          new HeadObjectCommand({ Bucket: bucket, Key: full(key) }),
          {
            abortSignal: signal,
          },
        );
        return {
          key,
          size: Number(response.ContentLength ?? 0),
          lastModified: response.LastModified ?? new Date(0),
        };
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    },

    async list(prefix, signal) {
      const out: ObjectInfo[] = [];
      const base = options.prefix ? `${joinKey(options.prefix)}/` : '';
      let token: string | undefined;
      do {
        const response = await client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: base + prefix,
            ContinuationToken: token,
          }),
          { abortSignal: signal },
        );
        for (const object of response.Contents ?? []) {
          if (!object.Key) continue;
          out.push({
            key: object.Key.slice(base.length),
            size: Number(object.Size ?? 0),
            lastModified: object.LastModified ?? new Date(0),
          });
        }
        token = response.IsTruncated ? response.NextContinuationToken : undefined;
      } while (token);
      return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },

    async delete(keys, signal) {
      for (let i = 0; i < keys.length; i += 16) {
        await Promise.all(
          keys.slice(i, i + 16).map(async (key) => {
            await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: full(key) }), {
              abortSignal: signal,
            });
            const entry = cached.get(key);
            if (entry) {
              cached.delete(key);
              cachedBytes -= entry.size;
              await unlink(cachePath(key)).catch(() => undefined);
            }
          }),
        );
      }
    },

    async localPath(key, signal) {
      const target = cachePath(key);
      const entry = cached.get(key);
      if (entry) {
        entry.used = Date.now();
        return target;
      }
      const existing = await stat(target).catch(() => undefined);
      if (existing?.isFile()) {
        await remember(key, existing.size);
        return target;
      }
      let download = downloads.get(key);
      if (!download) {
        download = (async () => {
          const bytes = await getBytes(key, undefined, signal);
          await mkdir(path.dirname(target), { recursive: true });
          const temp = `${target}.${randomUUID()}.tmp`;
          await writeFile(temp, bytes);
          await rename(temp, target);
          await remember(key, bytes.length);
          return target;
        })().finally(() => downloads.delete(key));
        downloads.set(key, download);
      }
      return download;
    },

    async stagingPath() {
      await mkdir(stagingRoot, { recursive: true });
      return path.join(stagingRoot, `${randomUUID()}.parquet`);
    },
  };
}

function statusOf(error: unknown): number | undefined {
  const meta = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata;
  return meta?.httpStatusCode;
}
