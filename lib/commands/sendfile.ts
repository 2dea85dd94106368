// `sendfile <name> <base64|-> [--call <id>]`: a file in the active call (the one named), in chunks that each fit a gift wrap.
import type { Event } from 'nostr-tools/pure'
import { requireActive } from '../calls/actions.ts'
import { peersOfCalls } from '../calls/queries.ts'
import { addEntry } from '../calls/transcript.ts'
import { decodeBase64, randomHex, sha256Hex } from '../encoding.ts'
import { type CommandResult, usageError } from '../errors.ts'
import {
  FILE_ID_BYTES,
  MAX_FILE_BYTES,
  MAX_FILE_NAME_BYTES,
  MAX_LEGACY_FILE_BYTES,
  MAX_STDIN_BASE64,
  PROGRESS_FROM_CHUNKS,
} from '../limits.ts'
import type { Sign } from '../nostr/nip59.ts'
import { chunkCount, isSafeFileName } from '../nostr/p2p.ts'
import type { Context } from '../session/context.ts'
import { legacyDmFor } from '../session/deliver.ts'
import { saveFile, wholeFile } from '../session/files.ts'
import { whileOnline } from '../session/online.ts'
import { enqueue, sendQueued } from '../session/outbox.ts'
import { signer } from '../session/sign.ts'
import type { CallRecord } from '../store/schema.ts'
import { MS_PER_CHUNK, unixNow } from '../timing.ts'
import { printDelivery } from '../ui/delivery.ts'
import { thousands } from '../ui/format.ts'
import { readStdin } from './input.ts'

const tooLargeForLegacy = (size: number, why = '') =>
  usageError(
    'file-too-large-for-legacy',
    `the file is ${size} bytes; an agent of the original skill takes a file in one NIP-04 message, at most ${thousands(MAX_LEGACY_FILE_BYTES)} bytes${why}`,
    'compress or split it, and send the parts',
  )

export async function sendfile(ctx: Context, name: string, content: string, callId?: string): CommandResult {
  if (!isSafeFileName(name)) {
    throw usageError(
      'bad-file-name',
      `"${name}" is not a safe file name`,
      `use a plain name of at most ${MAX_FILE_NAME_BYTES} bytes (UTF-8), without "/", "\\", control characters or a leading dot, e.g. report.pdf`,
    )
  }
  const tooLarge = (size: string) =>
    usageError(
      'file-too-large',
      `the file is ${size}; the limit is ${MAX_FILE_BYTES} bytes (10 MiB)`,
      'compress or split it, and send the parts',
    )
  const text = content === '-' ? await readStdin(MAX_STDIN_BASE64, ctx.timeoutMs, () => tooLarge('larger than that')) : content
  const data = decodeBase64(text)
  if (!data) {
    throw usageError(
      'bad-base64',
      'the file content is not valid base64',
      'encode the file with `base64 -w0 <file>`, or pipe it: `base64 <file> | node p2p.js sendfile <name> -`',
    )
  }
  if (data.length > MAX_FILE_BYTES) throw tooLarge(`${data.length} bytes`)
  const chunks = chunkCount(data.length)
  return whileOnline(ctx, { extraMs: chunks * MS_PER_CHUNK, writesTo: (s) => peersOfCalls(s, callId) }, async (online) => {
    const now = unixNow()
    const ms = Date.now()
    const fileId = randomHex(FILE_ID_BYTES)
    const sha256 = sha256Hex(data)
    const sign = await signer(ctx) // wanted later anyway; here, a legacy call's DM is signed in the update
    const { call, file, entry, state } = await ctx.store.update((s) => {
      const call = requireActive(s, now, callId)
      const dm = call.legacy ? legacyFileDm(ctx, call, { fileId, name, data, sha256 }, now, sign) : undefined
      const file = { name, size: data.length, sha256, path: saveFile(ctx.paths, call.id, fileId, name, data) }
      addEntry(s, call, { id: fileId, from: ctx.identity.pubkey, at: now, ms, text: name, file }, now)
      const queued = { path: file.path, fileId, name, sha256, at: now, ms }
      const entry = enqueue(s, { peer: call.peer, callId: call.id, file: queued, ...(dm ? { dm } : {}) })
      return { call, file, entry, state: s }
    })
    const done = chunks > PROGRESS_FROM_CHUNKS ? ctx.out.progress(`sending ${name}: ${data.length} bytes in ${chunks} chunks`) : () => {}
    const delivery = await sendQueued(ctx, online.pool, state, entry).finally(done)
    const headline = `sent ${name} (${data.length} bytes, ${chunks} chunk${chunks > 1 ? 's' : ''}, sha256 ${sha256.slice(0, 16)}…) in call ${call.id}`
    return printDelivery(ctx.out, { callId: call.id, file: { ...file, chunks } }, delivery, 'file', [headline])
  })
}

/** In a call with an agent of the original skill, the file's one NIP-04 DM, signed now and
 *  measured (names JSON must escape can make it larger than MAX_LEGACY_FILE_BYTES allows for);
 *  a file too large for it is refused before anything is kept. */
function legacyFileDm(
  ctx: Context,
  call: CallRecord,
  file: { fileId: string; name: string; data: Buffer; sha256: string },
  now: number,
  sign: Sign,
): Event {
  if (file.data.length > MAX_LEGACY_FILE_BYTES) throw tooLargeForLegacy(file.data.length)
  try {
    return legacyDmFor(ctx, call.peer, wholeFile(call.id, file), now, sign)
  } catch (err) {
    throw tooLargeForLegacy(file.data.length, ` (${(err as Error).message})`)
  }
}
