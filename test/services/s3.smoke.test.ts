import { randomUUID } from 'node:crypto';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoints, requireService, s3Client } from './endpoints.js';

/** The HTTP status of a failed S3 call, or undefined when it did not fail. */
async function statusOf(work: Promise<unknown>): Promise<number | undefined> {
  try {
    await work;
    return undefined;
  } catch (error) {
    const metadata = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
    return metadata?.httpStatusCode ?? -1;
  }
}

describe('S3 (services tier)', () => {
  const Bucket = endpoints.s3.bucket;
  const prefix = `smoke/${randomUUID()}/`;
  let client: S3Client;

  beforeAll(async () => {
    await requireService('s3');
    client = s3Client();
  });

  afterAll(() => {
    client?.destroy();
  });

  it('puts, gets, lists and deletes objects (path-style)', async () => {
    const keys = ['a.json', 'b.json', 'nested/c.json'].map((name) => prefix + name);
    for (const Key of keys) {
      await client.send(new PutObjectCommand({ Bucket, Key, Body: JSON.stringify({ Key }) }));
    }
    const got = await client.send(new GetObjectCommand({ Bucket, Key: keys[0] }));
    expect(await got.Body?.transformToString()).toBe(JSON.stringify({ Key: keys[0] }));

    const listed = await client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix }));
    expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual([...keys].sort());
    const shallow = await client.send(
      new ListObjectsV2Command({ Bucket, Prefix: prefix, Delimiter: '/' }),
    );
    expect(shallow.CommonPrefixes?.map((p) => p.Prefix)).toEqual([`${prefix}nested/`]);

    for (const Key of keys) await client.send(new DeleteObjectCommand({ Bucket, Key }));
    expect(await statusOf(client.send(new HeadObjectCommand({ Bucket, Key: keys[0] })))).toBe(404);
    const after = await client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix }));
    expect(after.KeyCount ?? 0).toBe(0);
  });

  it('refuses a put-if-absent (If-None-Match: *) on an existing key with 412', async () => {
    // Delta commits on S3 are atomic by exactly this: 00000000000000000001.json is
    // created only if absent, and the loser of a race sees 412 Precondition Failed.
    const Key = `${prefix}_delta_log/00000000000000000000.json`;
    const first = client.send(
      new PutObjectCommand({ Bucket, Key, Body: '{"commitInfo":{}}', IfNoneMatch: '*' }),
    );
    expect(await statusOf(first)).toBeUndefined();

    const second = client.send(
      new PutObjectCommand({ Bucket, Key, Body: '{"commitInfo":{"lost":true}}', IfNoneMatch: '*' }),
    );
    expect(await statusOf(second)).toBe(412);

    const kept = await client.send(new GetObjectCommand({ Bucket, Key }));
    expect(await kept.Body?.transformToString()).toBe('{"commitInfo":{}}');
    await client.send(new DeleteObjectCommand({ Bucket, Key }));
  });

  it('lets exactly one of many concurrent put-if-absent writers win', async () => {
    for (let round = 0; round < 5; round += 1) {
      const Key = `${prefix}_delta_log/race-${round}.json`;
      const writers = Array.from({ length: 6 }, (_, writer) =>
        statusOf(
          client.send(
            new PutObjectCommand({ Bucket, Key, Body: `{"writer":${writer}}`, IfNoneMatch: '*' }),
          ),
        ),
      );
      const statuses = await Promise.all(writers);
      expect(statuses.filter((status) => status === undefined)).toHaveLength(1);
      expect(statuses.filter((status) => status === 412)).toHaveLength(5);
      await client.send(new DeleteObjectCommand({ Bucket, Key }));
    }
  });
});
