// `sendfile <name> <base64|->`: a file in the active call, in chunks that each fit a gift wrap.
import { readFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import type { Context } from '../context.ts'
import { whileOnline, unixNow } from '../online.ts'
import { requireActive, addOwnEntry } from '../calls.ts'
import { deliverOrQueue, fileRumors, newFileId } from '../deliver.ts'
import { saveFile } from '../receive.ts'
import { isSafeFileName, MAX_FILE_BYTES, CHUNK_BYTES } from '../dm.ts'
import { printDelivery } from '../delivery-output.ts'
import { usageError, type CommandResult } from '../errors.ts'

/** Publishing time allowed per chunk beyond the usual deadline. */
const MS_PER_CHUNK = 60

export function decodeBase64(text: string): Buffer {
  const compact = text.replace(/\s+/g, '')
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) {
    throw usageError('bad-base64', 'the file content is not valid base64', 'encode the file with `base64 -w0 <file>`, or pipe it: `base64 <file> | node p2p.js sendfile <name> -`')
  }
  return Buffer.from(compact, 'base64')
}

export async function sendfile(ctx: Context, name: string, content: string): CommandResult {
  if (!isSafeFileName(name)) {
    throw usageError('bad-file-name', `"${name}" is not a safe file name`, 'use a plain name without "/", "\\", control characters or a leading dot, e.g. report.pdf')
  }
  const data = decodeBase64(content === '-' ? readFileSync(0, 'utf8') : content)
  if (data.length > MAX_FILE_BYTES) {
    throw usageError('file-too-large', `the file is ${data.length} bytes; the limit is ${MAX_FILE_BYTES} (10 MiB)`, 'compress or split it, and send the parts')
  }
  const chunks = Math.max(1, Math.ceil(data.length / CHUNK_BYTES))
  return whileOnline(ctx, async (online) => {
    const now = unixNow()
    const ms = Date.now()
    const fileId = newFileId()
    const sha256 = createHash('sha256').update(data).digest('hex')
    const { call, file, state } = await ctx.store.update((s) => {
      const call = requireActive(s, now)
      const file = { name, size: data.length, sha256, path: saveFile(ctx.paths.files, call.id, fileId, name, data) }
      addOwnEntry(call, { id: fileId, from: ctx.identity.pubkey, at: now, ms, text: name, file })
      return { call, file, state: s }
    })
    const rumors = fileRumors(ctx, call.peer, call.id, { fileId, name, data, sha256 }, now, ms)
    const done = chunks > 10 ? ctx.out.progress(`sending ${name}: ${data.length} bytes in ${chunks} chunks`) : () => {}
    const delivery = await deliverOrQueue(ctx, online.session, state, call.peer, call.id, rumors, { path: file.path, fileId, name, at: now, ms }).finally(done)
    const headline = `sent ${name} (${data.length} bytes, ${chunks} chunk${chunks > 1 ? 's' : ''}, sha256 ${sha256.slice(0, 16)}…) in call ${call.id}`
    return printDelivery(ctx, { callId: call.id, file: { ...file, chunks } }, delivery, 'file', [headline])
  }, chunks * MS_PER_CHUNK)
}
