/**
 * A .deb's control fields (Package, Version, Depends…), read from the file as dpkg reads it: an ar
 * archive ("!<arch>\n", then per member a 60-byte header: name 16, mtime 12, uid 6, gid 6, mode 8,
 * size 10, "`\n"; data padded to an even length) whose member control.tar(.gz|.xz|.zst) holds
 * ./control (deb(5), ar(5); read 2026-12-07). The format has three fixed-width fields to read, so no
 * library: the tar inside is read with `tar`, the compression with zlib, @napi-rs/lzma and fzstd.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { xz } from '@napi-rs/lzma';
import { decompress as unzstd } from 'fzstd';
import * as tar from 'tar';
import { KbError } from '../errors.js';
import { paragraphs } from './apt.js';

export async function debControl(file: string): Promise<Map<string, string>> {
  const b = readFileSync(file);
  if (b.subarray(0, 8).toString('latin1') !== '!<arch>\n') throw new KbError(`bundle: ${file}: not a .deb (no ar archive header)`);
  let at = 8;
  while (at + 60 <= b.length) {
    const name = b.subarray(at, at + 16).toString('latin1').trim().replace(/\/$/, '');
    const size = Number(b.subarray(at + 48, at + 58).toString('latin1').trim());
    const data = b.subarray(at + 60, at + 60 + size);
    at += 60 + size + (size % 2);
    if (!name.startsWith('control.tar')) continue;
    const raw = name.endsWith('.gz') ? gunzipSync(data) : name.endsWith('.xz') ? xz.decompressSync(data) : name.endsWith('.zst') ? Buffer.from(unzstd(new Uint8Array(data))) : data;
    const dir = mkdtempSync(join(tmpdir(), 'kb-deb-control-'));
    try {
      writeFileSync(join(dir, 'control.tar'), raw);
      let text: string | undefined;
      const pending: Promise<void>[] = [];
      await tar.t({
        file: join(dir, 'control.tar'),
        onReadEntry: (e) => {
          if (e.path.replace(/^\.\//, '') !== 'control') { e.resume(); return; }
          const chunks: Buffer[] = [];
          pending.push(new Promise((res, rej) => { e.on('data', (c: Buffer) => chunks.push(c)); e.on('end', () => { text = Buffer.concat(chunks).toString('utf8'); res(); }); e.on('error', rej); }));
        },
      });
      await Promise.all(pending);
      const p = text === undefined ? undefined : paragraphs(text)[0];
      if (!p) throw new KbError(`bundle: ${file}: ${name} holds no control file`);
      return p;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  throw new KbError(`bundle: ${file}: no control.tar member: not a .deb`);
}
