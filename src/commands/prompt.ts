/** Questions on the terminal (inquirer, loaded only when asked): a secret without echo, a yes/no. */
import type { Prompt } from '../ssh/credentials.js';

/** Ask on the terminal without echo (inquirer), only when there is one. */
export async function terminalPrompt(): Promise<Prompt | undefined> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  const { default: inquirer } = await import('inquirer');
  return async (message) => (await inquirer.prompt<{ secret: string }>([{ type: 'password', name: 'secret', message, mask: '*' }])).secret;
}

/** Ask a yes/no question on the terminal (inquirer), default no. */
export async function terminalConfirm(message: string): Promise<boolean> {
  const { default: inquirer } = await import('inquirer');
  return (await inquirer.prompt<{ ok: boolean }>([{ type: 'confirm', name: 'ok', message, default: false }])).ok;
}
