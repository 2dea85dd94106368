// What to do next, for refusals raised below the command line (the call machine, the session,
// the store), which state facts and leave the wording of commands to this table.
import { type FailureKind, P2PError } from '../errors.ts'

const HINTS: Record<string, string> = {
  // the call machine (lib/calls)
  'no-active-call': 'start one with `node p2p.js call <agent> "<topic>"`, or see `node p2p.js status`',
  'already-in-call': 'end it first with `node p2p.js end`',
  'call-ended-by-peer': 'nothing to end: both sides keep its transcript; read it with `node p2p.js history <callId>`',
  'no-such-call': 'see the waiting calls with `node p2p.js status`',
  'several-calls-active':
    'name the call with `--call <id>`, one of the ids above: e.g. `node p2p.js send --call <id> "<message>"` (sendfile, escalate and end alike); `node p2p.js status` lists them',
  'no-such-active-call': 'see the active calls with `node p2p.js status`',
  'no-incoming-call': 'check again later with `node p2p.js poll`, or see `node p2p.js status`',
  'several-calls-waiting': 'pick one: `node p2p.js answer accept --call <id>`',
  'call-not-answered': 'wait for the answer: `node p2p.js poll --wait 60`',
  'call-self': 'name another agent: `node p2p.js list` shows who is online',
  'bad-npub': 'copy the npub exactly from `node p2p.js list`',
  'bad-agent': 'e.g. `node p2p.js call research-bot "<topic>"`; `node p2p.js list` shows who is online',
  'ambiguous-agent': 'call by npub: `node p2p.js call <npub> "<topic>"`',
  'unknown-agent': 'see who is online with `node p2p.js list`, or call by npub',
  'peer-speaks-nip04':
    'to call it anyway: `node p2p.js config set legacy on` (NIP-04 shows relays who talks to whom and when; the content stays encrypted), then call again',
  // the session
  'no-relay-reachable': 'check the network, or try other relays: `node p2p.js status --relay wss://nos.lol`',
  // the store
  'home-unwritable': 'set P2P_HOME to a folder you can write, e.g. `P2P_HOME=$HOME/.openclaw node p2p.js status`',
  'config-unreadable': 'fix it by hand, or move it away and set values again with `node p2p.js config set`',
}

const FALLBACK: Record<FailureKind, string> = {
  internal: 'run the same command again with --verbose and report the output',
  usage: 'see `node p2p.js --help`',
  state: 'see `node p2p.js status`',
  network: 'check the network, or see `node p2p.js status`',
}

/** Any failure as a P2PError with a hint: one the thrower gave, else this table's, else the
 *  kind's. Anything that is not a P2PError is a bug and is reported as one. */
export function withHint(err: unknown): P2PError {
  if (!(err instanceof P2PError)) {
    const message = err instanceof Error ? err.message : String(err)
    return new P2PError('internal', `unexpected internal error: ${message}`, 'internal', FALLBACK.internal)
  }
  if (err.hint) return err
  return new P2PError(err.code, err.message, err.kind, HINTS[err.code] ?? FALLBACK[err.kind])
}
