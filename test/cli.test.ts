// The command-line surface: help, usage errors, exit codes, the secret key never printed.

import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { nsecEncode } from 'nostr-tools/nip19'
import { hexToBytes } from 'nostr-tools/utils'
import { describe, expect, it } from 'vitest'
import { HOOK_TIMEOUT_MS, MAX_WAIT_S } from '../lib/timing.ts'
import { agent, CLI, tempHome } from './helpers/cli.ts'
import { deadRelayUrl } from './helpers/relay.ts'

const a = agent(['ws://127.0.0.1:1'])

describe('help', () => {
  it('the tool shows the flow and every command', async () => {
    const r = await a.run(['--help'])
    expect(r.code).toBe(0)
    for (const word of ['status', 'list', 'whoami', 'config', '--json', '--relay', '--timeout', '--verbose'])
      expect(r.stdout).toContain(word)
  })

  it.each([
    'status',
    'list',
    'call',
    'answer',
    'send',
    'sendfile',
    'escalate',
    'notify',
    'share',
    'end',
    'poll',
    'history',
    'whoami',
    'allow',
    'block',
    'config get',
    'config set',
  ])('%s --help has an example', async (command) => {
    const r = await a.run([...command.split(' '), '--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/Examples:\s+node p2p\.js \S+/)
  })

  it("hints name the script's whole path when run from another folder, as a skill is (node {baseDir}/p2p.js), so that they run when copied", async () => {
    const elsewhere = tempHome('p2p-cwd-')
    // a space and a `$&` (a pattern to String.replace) in the path
    const skillDir = join(tempHome('p2p-skill-'), 'my $& skills')
    mkdirSync(skillDir)
    symlinkSync(CLI, join(skillDir, 'p2p.js'))
    const run = (script: string, cwd: string) =>
      new Promise<string>((resolve) => {
        const child = spawn(process.execPath, [script, 'history'], { cwd, env: { PATH: process.env.PATH ?? '', P2P_HOME: a.home } })
        let out = ''
        child.stdout.on('data', (d) => (out += d))
        child.on('close', () => resolve(out))
      })
    expect(await run(join(skillDir, 'p2p.js'), elsewhere)).toContain(`\`node '${skillDir}/p2p.js' call <agent>`)
    expect(await run('p2p.js', skillDir)).toContain('`node p2p.js call <agent>')
  })

  it('poll --help says what a hook gets and how long it may take', async () => {
    const r = await a.run(['poll', '--help'])
    for (const said of ['JSON document on stdin', 'P2P_EVENT_TYPE', 'P2P_CALL_ID', `${HOOK_TIMEOUT_MS / 1000} s`, `at most ${MAX_WAIT_S}`])
      expect(r.stdout.replace(/\s+/g, ' ')).toContain(said)
  })

  it('the word "help" as the text of a message is sent, not read as --help', async () => {
    const r = await a.run(['send', 'help', '--json'])
    expect(r.stdout).not.toMatch(/Positionals:/)
    expect(r.json().error.code).toBe('no-relay-reachable') // it went on to send
  })

  it('`node p2p.js` alone shows the call flow, as --help does', async () => {
    const alone = await a.run([])
    expect(alone.code).toBe(0)
    expect(alone.stdout).toMatch(/call flow/)
    expect(alone.stdout).toBe((await a.run(['--help'])).stdout)
    const noCommand = await a.run(['--json'])
    expect(noCommand.code).toBe(2)
  })

  it('prints the version', async () => {
    const r = await a.run(['--version'])
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version)
  })
})

describe('bad usage exits 2 with what to do next', () => {
  it.each([
    [['statsu'], /did you mean `node p2p.js status`/],
    [['frobnicate'], /--help/],
    [['status', '--bogus'], /--help/],
    [['status', '--relay', 'http://example.com'], /wss:\/\//],
    [['status', '--timeout', '-5'], /--timeout 8000/],
    [['config'], /get|set/],
    // shorter than an announcement can be old while its agent runs (issue 23, point 15)
    [['config', 'set', 'onlineWindow', '30'], /renewed once 120 s old/],
  ])('%j', async (args, hint) => {
    const plain = await a.run(args)
    expect(plain.code).toBe(2)
    expect(plain.stdout).toBe('')
    expect(plain.stderr).toMatch(/error: /)
    const json = await a.run([...args, '--json'])
    expect(json.code).toBe(2)
    const { error } = json.json()
    expect(error.code).toEqual(expect.any(String))
    expect(error.message).toEqual(expect.any(String))
    expect(`${error.message} ${error.hint}`).toMatch(hint)
  })
})

describe('colour', () => {
  const onTerminal = (command: string, env = '') =>
    new Promise<string>((resolve) => {
      // `script` gives the command a real terminal (a pseudo-TTY) on stdout and stderr
      const child = spawn('script', ['-qec', `${env} P2P_HOME=${a.home} P2P_RELAYS=ws://127.0.0.1:1 node ${CLI} ${command}`, '/dev/null'])
      let out = ''
      child.stdout.on('data', (d) => (out += d))
      child.on('close', () => resolve(out))
    })

  it('only on a terminal, never with --json or NO_COLOR, never in a pipe', async () => {
    expect(await onTerminal('status')).toMatch(/\u001b\[31m✗/)
    expect(await onTerminal('status', 'NO_COLOR=1')).not.toMatch(/\u001b\[/)
    expect(await onTerminal('status --json')).not.toMatch(/\u001b\[/)
    const piped = await a.run(['status'])
    expect(piped.stdout + piped.stderr).not.toMatch(/\u001b\[/)
  })
})

describe('secrets', () => {
  it('no command prints the secret key', async () => {
    const b = agent([await deadRelayUrl()])
    const outputs: string[] = []
    for (const args of [
      ['whoami'],
      ['status', '--verbose'],
      ['list', '--verbose'],
      ['config', 'get'],
      ['config', 'set', 'name', 'x'],
      ['whoami', '--json'],
    ]) {
      const r = await b.run(args)
      outputs.push(r.stdout, r.stderr)
    }
    const secret = JSON.parse(readFileSync(join(b.home, 'p2p-identity.json'), 'utf8')).secretKey as string
    const all = outputs.join('\n')
    expect(all).toContain('npub1')
    expect(all).not.toContain(secret)
    expect(all).not.toContain(nsecEncode(hexToBytes(secret)))
  })
})
