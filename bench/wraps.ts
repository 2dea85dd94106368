// Real NIP-17 gift wraps for the big rows: `count` messages of one call from a peer to an agent,
// sealed by the peer and wrapped with throw-away keys by the same code `send` uses
// (lib/nostr/nip59.ts). Making 50,000 takes minutes, so a set is made once into the OS tmp dir,
// keyed by count, together with a relay database holding it (copied for each relay that serves
// it), and reused for a day: the wraps are dated over the day before they were made, so for a
// day every one stays inside the 2-day window a sync reads.
import { copyFileSync, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EventRepositorySqlite } from '@nostr-relay/event-repository-sqlite'
import * as nip19 from 'nostr-tools/nip19'
import { type Event, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { bytesToHex, hexToBytes } from 'nostr-tools/utils'
import { prepareBulk } from '../lib/nostr/nip44.ts'
import { wrapRumor } from '../lib/nostr/nip59.ts'
import { buildRumor } from '../lib/nostr/p2p.ts'
import { signerFor } from '../lib/nostr/schnorr.ts'
import { tempDir } from './measure.ts'

/** Bumped whenever what a set holds changes: older caches are then made again. */
const CACHE_VERSION = 1
/** Wraps and seals are dated at random over this long before the set was made ... */
const DATED_OVER_S = 24 * 3600
/** ... and the set is used for this long after: at most 48 h old, inside the 49 h look-back. */
const CACHE_TTL_S = 24 * 3600
const cacheDir = join(tmpdir(), 'p2p-bench-cache')

export interface WrapSet {
  count: number
  agentSk: Uint8Array
  agent: string
  peerSk: Uint8Array
  peer: string
  /** the call the messages belong to */
  callId: string
  /** a relay database holding the wraps (to copy, never to serve from); none when count is 0 */
  dbFile?: string
}

interface Meta {
  version: number
  count: number
  createdAt: number
  agentSk: string
  peerSk: string
  callId: string
}

const log = (line: string) => process.stderr.write(`bench: ${line}\n`)
const nowS = () => Math.floor(Date.now() / 1000)

/** The set of `count` wraps: from the cache when it is there and fresh, else made now. */
export async function wrapSet(count: number): Promise<WrapSet> {
  const base = join(cacheDir, `wraps-v${CACHE_VERSION}-${count}`)
  let meta = readMeta(`${base}.json`)
  if (!meta || meta.count !== count || meta.createdAt < nowS() - CACHE_TTL_S || !existsSync(`${base}.jsonl`)) {
    meta = await makeSet(count, base)
  }
  if (count > 0 && !existsSync(`${base}.db`)) await buildDb(`${base}.jsonl`, `${base}.db`)
  const agentSk = hexToBytes(meta.agentSk)
  const peerSk = hexToBytes(meta.peerSk)
  return {
    count,
    agentSk,
    agent: getPublicKey(agentSk),
    peerSk,
    peer: getPublicKey(peerSk),
    callId: meta.callId,
    dbFile: count > 0 ? `${base}.db` : undefined,
  }
}

/** A copy of the set's relay database, for one relay to serve (undefined: start empty). */
export function seededDb(set: WrapSet): string | undefined {
  if (!set.dbFile) return undefined
  const file = join(tempDir('relay'), 'events.db')
  copyFileSync(set.dbFile, file)
  return file
}

/** Gives `home` the set's agent as its identity, as the CLI writes one. */
export function writeIdentity(home: string, secretKey: Uint8Array): void {
  const pubkey = getPublicKey(secretKey)
  const body = { secretKey: bytesToHex(secretKey), pubkey, npub: nip19.npubEncode(pubkey), createdAt: new Date().toISOString() }
  writeFileSync(join(home, 'p2p-identity.json'), `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 })
}

function readMeta(file: string): Meta | undefined {
  try {
    const meta = JSON.parse(readFileSync(file, 'utf8')) as Meta
    return meta.version === CACHE_VERSION ? meta : undefined
  } catch {
    return undefined
  }
}

async function makeSet(count: number, base: string): Promise<Meta> {
  mkdirSync(cacheDir, { recursive: true })
  for (const ext of ['json', 'jsonl', 'db']) rmSync(`${base}.${ext}`, { force: true })
  const createdAt = nowS()
  const agentSk = generateSecretKey()
  const peerSk = generateSecretKey()
  const meta: Meta = {
    version: CACHE_VERSION,
    count,
    createdAt,
    agentSk: bytesToHex(agentSk),
    peerSk: bytesToHex(peerSk),
    callId: bytesToHex(generateSecretKey()).slice(0, 10),
  }
  if (count > 0) log(`making ${count} gift wraps into ${base}.jsonl (once a day; ~2 ms each)`)
  const started = Date.now()
  await prepareBulk(count)
  const sign = await signerFor()
  const dated: typeof sign = (template, sk) => sign({ ...template, created_at: createdAt - Math.floor(Math.random() * DATED_OVER_S) }, sk)
  const agent = getPublicKey(agentSk)
  const peer = getPublicKey(peerSk)
  const out = createWriteStream(`${base}.jsonl.tmp`)
  for (let i = 0; i < count; i++) {
    // one message a second, the last one sent as the set was made
    const at = createdAt - (count - i)
    const text = `message ${i} of the benchmark call, a sentence of ordinary length.`
    const rumor = buildRumor({ type: 'message', callId: meta.callId, text }, peer, agent, at, 'bench peer', at * 1000)
    if (!out.write(`${JSON.stringify(wrapRumor(rumor, peerSk, agent, dated))}\n`))
      await new Promise<void>((d) => out.once('drain', () => d()))
  }
  await new Promise<void>((done, fail) => out.end(() => done()).once('error', fail))
  renameSync(`${base}.jsonl.tmp`, `${base}.jsonl`)
  writeFileSync(`${base}.json`, JSON.stringify(meta))
  if (count > 0) log(`made ${count} gift wraps in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return meta
}

/** The relay's own store (the test relay's SQLite repository), filled with the wraps. */
async function buildDb(jsonl: string, dbFile: string): Promise<void> {
  const started = Date.now()
  const tmp = `${dbFile}.tmp`
  rmSync(tmp, { force: true })
  const repo = new EventRepositorySqlite(tmp)
  await repo.init()
  const lines = readFileSync(jsonl, 'utf8').split('\n').filter(Boolean)
  for (const line of lines) await repo.upsert(JSON.parse(line) as Event)
  await repo.destroy() // closing checkpoints the write-ahead log into the file
  renameSync(tmp, dbFile)
  log(`loaded ${lines.length} gift wraps into a relay database in ${((Date.now() - started) / 1000).toFixed(1)} s`)
}
