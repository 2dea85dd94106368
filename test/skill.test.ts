// Every command line in SKILL.md's examples, run in order against a local relay, with a
// second agent (research-bot) and the owner playing their parts: the skill file cannot
// drift from the code.

import { spawn } from 'node:child_process'
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Agent, agent, CLI, tempHome } from './helpers/cli.ts'
import { startRelay, type TestRelay } from './helpers/relay.ts'
import { sendDms } from './helpers/stranger.ts'

const skill = readFileSync(new URL('../SKILL.md', import.meta.url), 'utf8')
const examples = [...skill.matchAll(/```bash\n([\s\S]*?)```/g)].flatMap((m) => m[1].split('\n').filter((l) => l.trim()))
// the owner in SKILL.md's example: the key whose secret is 32 bytes of 7
const OWNER_SECRET = new Uint8Array(32).fill(7)

let relay: TestRelay
beforeAll(async () => {
  relay = await startRelay()
})
afterAll(() => relay.stop())

function shell(line: string, cwd: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', line], { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

describe('SKILL.md', () => {
  it('has a front matter with name and description, and examples of every command', () => {
    expect(skill).toMatch(/^---\nname: p2p-comm\ndescription: .+\n---\n/)
    for (const command of [
      'status',
      'list',
      'call',
      'answer accept',
      'answer reject',
      'send',
      'sendfile',
      'escalate',
      'end',
      'poll',
      'history',
      'whoami',
      'config set',
    ]) {
      expect(
        examples.some((l) => l.startsWith(`node p2p.js ${command}`)),
        command,
      ).toBe(true)
    }
  })

  it('every example runs, in order, as written', async () => {
    const cwd = tempHome('p2p-skill-')
    symlinkSync(CLI, join(cwd, 'p2p.js'))
    writeFileSync(join(cwd, 'q3.csv'), 'quarter,revenue,costs\nQ3,1200000,900000\n')
    const env = { P2P_HOME: tempHome(), P2P_RELAYS: relay.url }
    const peer: Agent = agent([relay.url])
    expect((await peer.run(['config', 'set', 'name', 'research-bot'])).code).toBe(0)
    expect((await peer.run(['status'])).code).toBe(0)
    const me = async () => JSON.parse((await shell('node p2p.js whoami --json', cwd, env)).stdout)

    for (const line of examples) {
      // the other parties' parts, around the lines that need them
      if (/answer (accept|reject)/.test(line)) {
        expect((await peer.run(['call', (await me()).npub, 'can you help with a translation?'])).code).toBe(0)
      }
      const r = await shell(line, cwd, env)
      expect(r.code, `${line}\n${r.stdout}\n${r.stderr}`).toBe(0)
      if (/^node p2p.js call /.test(line)) {
        await peer.run(['poll'])
        expect((await peer.run(['answer', 'accept'])).code).toBe(0)
      }
      if (/^node p2p.js sendfile /.test(line)) {
        const got = (await peer.run(['poll', '--json'])).json().events
        expect(got.map((e: { type: string }) => e.type)).toEqual(['message', 'file'])
        expect((await peer.run(['send', 'Thanks: revenue up, costs flat. Summary follows.'])).code).toBe(0)
      }
      if (/^node p2p.js escalate /.test(line)) await sendDms(relay.url, (await me()).pubkey, 1, [OWNER_SECRET])
      if (line === 'node p2p.js list') expect(r.stdout).toMatch(/research-bot/)
      if (line === 'node p2p.js history') expect(r.stdout).toMatch(/summarise the Q3 report/)
    }
    expect((await shell('node p2p.js history --json', cwd, env)).stdout).toMatch(/can you help with a translation/)
  }, 120_000)
})
