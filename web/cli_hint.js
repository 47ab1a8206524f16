// "The same from a terminal": the CLI command that does what a page shows,
// with a copy button. Arguments are shell-quoted; the command never holds
// the token (the CLI reads MODELREG_TOKEN or its login context).
import { h } from './dom.js';

const quote = (a) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(String(a)) ? String(a) : `'${String(a).replace(/'/g, "'\\''")}'`);

export const command = (args) => ['modelreg', ...args].map(quote).join(' ');

// args: ['versions', 'churn'] -> `modelreg versions churn` with a Copy button.
export function cliHint(args, label = 'CLI') {
  const text = command(args);
  const code = h('code', { 'data-testid': 'cli-command' }, text);
  const button = h('button', { type: 'button', class: 'copy', 'data-testid': 'cli-copy' }, 'Copy');
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = 'Copied';
    } catch {
      // No clipboard access (an insecure origin, a refused permission):
      // select the text so Ctrl+C copies it.
      const range = document.createRange();
      range.selectNodeContents(code);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      button.textContent = 'Selected: press Ctrl+C';
    }
  });
  return h('div', { class: 'cli', 'data-testid': 'cli' }, h('span', { class: 'muted' }, `${label} `), code, button);
}
