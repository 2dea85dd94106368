// The agent's Nostr keypair: created once, exclusively, mode 0600; never overwritten, never
// printed. Only the public key ever leaves this module in a printable form.
import { linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import * as nip19 from 'nostr-tools/nip19'
import { bytesToHex, hexToBytes } from 'nostr-tools/utils'
import { isHex64 } from '../encoding.ts'
import { type P2PError, stateError } from '../errors.ts'
import { newSecretKey, publicKeyFromSecret } from '../nostr/keys.ts'

export interface Identity {
  secretKey: Uint8Array
  pubkey: string
  npub: string
  /** set when the file is readable by group or others */
  permissionWarning?: string
}

/** Loads the identity, creating it first when there is none. */
export function loadOrCreateIdentity(path: string): Identity {
  const existing = readIdentity(path)
  if (existing) return existing
  createIdentity(path)
  // Whoever won a race to create it, the file on disk is now the identity.
  const created = readIdentity(path)
  if (!created) throw unreadable(path, 'it vanished right after it was created')
  return created
}

function createIdentity(path: string): void {
  const secretKey = newSecretKey()
  const pubkey = publicKeyFromSecret(secretKey)
  const body = JSON.stringify(
    { secretKey: bytesToHex(secretKey), pubkey, npub: nip19.npubEncode(pubkey), createdAt: new Date().toISOString() },
    null,
    2,
  )
  // Write a private temp file, then hard-link it into place: link() fails if the identity
  // already exists, so two first runs at once end with one identity, always complete on disk.
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`
  writeFileSync(tmp, `${body}\n`, { mode: 0o600, flag: 'wx' })
  try {
    linkSync(tmp, path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  } finally {
    unlinkSync(tmp)
  }
}

function readIdentity(path: string): Identity | null {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return null
    throw unreadable(path, code ?? 'read failed')
  }
  let doc: Record<string, unknown>
  try {
    doc = JSON.parse(text)
  } catch {
    throw unreadable(path, 'it is not valid JSON')
  }
  const secretKey = parseSecret(doc)
  if (!secretKey) throw unreadable(path, 'it holds no valid secret key')
  // Deriving the public key costs ~10 ms of curve arithmetic on every run; the file we write
  // records it, so it is derived only for files that lack it (other tools').
  const pubkey = isHex64(doc.pubkey) ? doc.pubkey : publicKeyFromSecret(secretKey)
  return { secretKey, pubkey, npub: nip19.npubEncode(pubkey), permissionWarning: permissionWarning(path) }
}

/** Accepts our own field and the spellings other tools use for the same key. */
function parseSecret(doc: Record<string, unknown>): Uint8Array | null {
  for (const field of ['secretKey', 'privateKey', 'sk', 'nsec']) {
    const value = doc[field]
    if (typeof value !== 'string') continue
    if (isHex64(value.toLowerCase())) return hexToBytes(value.toLowerCase())
    if (value.startsWith('nsec1')) {
      try {
        const decoded = nip19.decode(value)
        if (decoded.type === 'nsec') return decoded.data
      } catch {
        return null
      }
    }
  }
  return null
}

let keyPairChecked = false

/** A run about to sign checks, once, that the recorded public key is the secret key's (quiet
 *  runs trust it, see readIdentity): a hand-edited file must not sign as someone else. */
export async function checkKeyPair(identity: Identity, path: string, derive: (secretKey: Uint8Array) => Promise<string>): Promise<void> {
  if (keyPairChecked) return
  if ((await derive(identity.secretKey)) !== identity.pubkey) throw unreadable(path, 'its pubkey does not match its secret key')
  keyPairChecked = true
}

function permissionWarning(path: string): string | undefined {
  const mode = statSync(path).mode & 0o777
  if ((mode & 0o077) === 0) return undefined
  return `${path} is readable by other users (mode ${mode.toString(8)}): run \`chmod 600 ${path}\``
}

function unreadable(path: string, why: string): P2PError {
  return stateError(
    'identity-unreadable',
    `the identity file ${path} cannot be used: ${why}`,
    `it was left untouched; restore it from a backup, or move it away (\`mv ${path} ${path}.bad\`) to create a new identity`,
  )
}
