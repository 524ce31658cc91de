import { randomUUID } from 'node:crypto';
import { MongoClient, MongoServerError } from 'mongodb';
import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoints, requireService } from './endpoints.js';

interface JobDocument {
  name: string;
  priority: number;
  nextRunAt: Date | null;
  lockedAt: Date | null;
  data?: Record<string, unknown>;
  type?: string;
}

describe('MongoDB wire (services tier)', () => {
  const client = new MongoClient(endpoints.mongoUri, { directConnection: true });
  let db: Db;

  beforeAll(async () => {
    await requireService('mongo');
    await client.connect();
    db = client.db(`alphalake_smoke_${randomUUID().slice(0, 8)}`);
  });

  afterAll(async () => {
    await db?.dropDatabase();
    await client.close();
  });

  it('inserts and finds documents with a filter, sort and projection', async () => {
    const symbols = db.collection<{ ticker: string; exchange: string; active: boolean }>('symbols');
    await symbols.insertMany([
      { ticker: 'MSFT', exchange: 'XNAS', active: true },
      { ticker: 'AAPL', exchange: 'XNAS', active: true },
      { ticker: 'IBM', exchange: 'XNYS', active: false },
    ]);
    const active = await symbols
      .find({ active: true }, { projection: { _id: 0, ticker: 1 } })
      .sort({ ticker: 1 })
      .toArray();
    expect(active).toEqual([{ ticker: 'AAPL' }, { ticker: 'MSFT' }]);
    expect(await symbols.distinct('exchange')).toEqual(expect.arrayContaining(['XNAS', 'XNYS']));
    expect(await symbols.countDocuments({ exchange: 'XNAS' })).toBe(2);
    expect(await symbols.countDocuments()).toBe(3);
  });

  it('locks the next due job like Agenda: findOneAndUpdate with sort', async () => {
    const jobs = db.collection<JobDocument>('agendaJobs');
    const now = new Date();
    const past = (ms: number) => new Date(now.getTime() - ms);
    await jobs.insertMany([
      { name: 'lake-sync', priority: 0, nextRunAt: past(1000), lockedAt: null },
      { name: 'lake-sync', priority: 10, nextRunAt: past(1000), lockedAt: null },
      { name: 'lake-sync', priority: 0, nextRunAt: past(5000), lockedAt: null },
      { name: 'compaction', priority: 20, nextRunAt: past(9000), lockedAt: null },
    ]);
    const lock = () =>
      jobs.findOneAndUpdate(
        { name: 'lake-sync', lockedAt: null, nextRunAt: { $lte: now } },
        { $set: { lockedAt: new Date() } },
        { sort: { nextRunAt: 1, priority: -1 }, returnDocument: 'after' },
      );
    const first = await lock();
    expect(first?.nextRunAt).toEqual(past(5000));
    expect(first?.lockedAt).toBeInstanceOf(Date);
    const second = await lock();
    expect(second?.priority).toBe(10);
    const third = await lock();
    expect(third?.priority).toBe(0);
    expect(await lock()).toBeNull();
    expect(await jobs.countDocuments({ name: 'lake-sync', lockedAt: { $ne: null } })).toBe(3);
    expect((await jobs.distinct('name')).sort()).toEqual(['compaction', 'lake-sync']);
  });

  it('upserts a single job with $setOnInsert and leaves it alone on the next upsert', async () => {
    const jobs = db.collection<JobDocument>('agendaJobs');
    const upsert = (priority: number) =>
      jobs.findOneAndUpdate(
        { name: 'retrain', type: 'single' },
        {
          $set: { priority },
          $setOnInsert: { nextRunAt: new Date(0), lockedAt: null, data: { model: 'lstm' } },
        },
        { upsert: true, returnDocument: 'after' },
      );
    const created = await upsert(1);
    expect(created?.data).toEqual({ model: 'lstm' });
    await jobs.updateOne({ name: 'retrain' }, { $set: { data: { model: 'bilstm' } } });
    const updated = await upsert(2);
    expect(updated?._id).toEqual(created?._id);
    expect(updated?.priority).toBe(2);
    expect(updated?.data).toEqual({ model: 'bilstm' });

    const result = await jobs.updateOne(
      { name: 'vacuum', type: 'single' },
      { $setOnInsert: { priority: 0, nextRunAt: null, lockedAt: null } },
      { upsert: true },
    );
    expect(result.upsertedCount).toBe(1);
    expect(await jobs.countDocuments({ type: 'single' })).toBe(2);
  });

  it('enforces a unique index with a duplicate-key error (11000)', async () => {
    const users = db.collection<{ email: string; role: string }>('users');
    const indexName = await users.createIndex({ email: 1 }, { unique: true });
    expect((await users.indexes()).map((index) => index.name)).toContain(indexName);
    await users.insertOne({ email: 'ada@example.com', role: 'admin' });
    const duplicate = await users
      .insertOne({ email: 'ada@example.com', role: 'viewer' })
      .then(() => undefined)
      .catch((error: unknown) => error);
    expect(duplicate).toBeInstanceOf(MongoServerError);
    expect((duplicate as MongoServerError).code).toBe(11000);
    expect(await users.countDocuments()).toBe(1);
  });
});
