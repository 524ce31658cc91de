import { randomUUID } from 'node:crypto';
import { createReadStream, type Dirent } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { AlphalakeError } from '../../domain/index.js';
import type { ByteRange, ObjectInfo, ObjectStore } from './object-store.js';

/**
 * An object store over a local folder. `putIfAbsent` writes a temporary file and
 * hard-links it into place: `link(2)` fails with EEXIST if the target exists, so the
 * commit file appears atomically and complete, never half-written (PROTOCOL.md,
 * "Delta Log Entries": a commit must be created atomically and only once).
 */
export function localObjectStore(rootDir: string): ObjectStore {
  const root = path.resolve(rootDir);
  const prefix = root.endsWith(path.sep) ? root : root + path.sep; // the root may be `/`
  const resolve = (key: string): string => {
    const full = path.resolve(root, key);
    if (full !== root && !full.startsWith(prefix)) {
      throw new AlphalakeError('BAD_USER_INPUT', `key escapes the store root: ${key}`);
    }
    return full;
  };

  async function writeTemp(target: string, bytes: Uint8Array): Promise<string> {
    await fs.mkdir(path.dirname(target), { recursive: true });
    const temp = path.join(path.dirname(target), `.tmp-${randomUUID()}`);
    await fs.writeFile(temp, bytes);
    return temp;
  }

  async function walk(dir: string, out: ObjectInfo[]): Promise<void> {
    let entries: Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (isCode(error, 'ENOENT') || isCode(error, 'ENOTDIR')) return;
      throw error;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        await walk(full, out);
      } else if (entry.isFile() && !entry.name.startsWith('.tmp-')) {
        const stat = await fs.stat(full).catch(() => undefined);
        if (stat === undefined) continue;
        out.push({
          key: path.relative(root, full).split(path.sep).join('/'),
          size: stat.size,
          lastModified: stat.mtime,
        });
      }
    }
  }

  return {
    capabilities: Object.freeze({ supportsConditionalPut: true, isLocal: true }),
    description: `file://${root}`,

    async putIfAbsent(key, bytes) {
      const target = resolve(key);
      const temp = await writeTemp(target, bytes);
      try {
        await fs.link(temp, target);
        return true;
      } catch (error) {
        if (isCode(error, 'EEXIST')) return false;
        throw error;
      } finally {
        await fs.rm(temp, { force: true });
      }
    },

    async put(key, bytes) {
      const target = resolve(key);
      const temp = await writeTemp(target, bytes);
      await fs.rename(temp, target);
    },

    async putFile(key, localFile) {
      const target = resolve(key);
      if (path.resolve(localFile) === target) return;
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.copyFile(localFile, target);
    },

    async get(key, range?: ByteRange) {
      const file = resolve(key);
      try {
        if (range === undefined) return new Uint8Array(await fs.readFile(file));
        const chunks: Buffer[] = [];
        if (range.end <= range.start) return new Uint8Array(0);
        for await (const chunk of createReadStream(file, {
          start: range.start,
          end: range.end - 1,
        })) {
          chunks.push(chunk as Buffer);
        }
        return new Uint8Array(Buffer.concat(chunks));
      } catch (error) {
        if (isCode(error, 'ENOENT')) throw new AlphalakeError('NOT_FOUND', `no object ${key}`);
        throw error;
      }
    },

    async head(key) {
      try {
        const stat = await fs.stat(resolve(key));
        return stat.isFile() ? { key, size: stat.size, lastModified: stat.mtime } : undefined;
      } catch (error) {
        if (isCode(error, 'ENOENT')) return undefined;
        throw error;
      }
    },

    async list(prefix) {
      // Walk only the deepest directory the prefix names, then filter by the rest.
      const slash = prefix.lastIndexOf('/');
      const dir = slash >= 0 ? resolve(prefix.slice(0, slash)) : root;
      const out: ObjectInfo[] = [];
      await walk(dir, out);
      return out
        .filter((info) => info.key.startsWith(prefix))
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },

    async delete(keys) {
      for (const key of keys) await fs.rm(resolve(key), { force: true });
    },

    async localPath(key) {
      return resolve(key);
    },

    async stagingPath(key) {
      const target = resolve(key);
      await fs.mkdir(path.dirname(target), { recursive: true });
      return target;
    },
  };
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
