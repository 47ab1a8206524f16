// Downloading a version's file. The blob endpoint wants the token in the
// Authorization header, which a plain link cannot send (and the token never
// goes into a URL: api.js), so the page fetches the bytes with the header
// and hands them to the browser as a download from memory. Files above
// kMaxInBrowser are left to `modelreg pull`, which streams and verifies.
import { apiBlob, seg } from './api.js';
import { bytes, errorBox, h } from './dom.js';

const kMaxInBrowser = 512 * 1024 * 1024;

export function downloadLink(model, file) {
  if (typeof file.size === 'number' && file.size > kMaxInBrowser)
    return h('span', { class: 'muted', title: `larger than ${bytes(kMaxInBrowser)}` }, 'use modelreg pull');
  const name = String(file.path).split('/').pop() || 'file';
  const a = h('a', { href: '#', 'data-download': file.path }, 'download');
  a.addEventListener('click', async (ev) => {
    ev.preventDefault();
    a.textContent = 'downloading…';
    try {
      const blob = await apiBlob(`/models/${seg(model)}/blobs/${seg(file.digest)}`);
      const url = URL.createObjectURL(blob);
      const save = h('a', { href: url, download: name, hidden: true });
      document.body.append(save);
      save.click();
      save.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      a.textContent = 'download';
    } catch (e) {
      a.replaceWith(errorBox(e));
    }
  });
  return a;
}
