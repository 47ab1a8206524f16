// The only module that talks to the server: the public REST API under
// /api/v1, nothing else. The token lives in sessionStorage (gone with the
// tab) and travels only in the Authorization header, never in a URL, so it
// cannot leak through history, logs or a Referer.

const kTokenKey = 'modelreg.token';

export const session = {
  token: () => sessionStorage.getItem(kTokenKey),
  signIn: (token) => sessionStorage.setItem(kTokenKey, token),
  signOut: () => sessionStorage.removeItem(kTokenKey),
};

// An error answer of the API (SPEC §10): HTTP status plus error.{code,message,details}.
export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = Array.isArray(details) ? details : [];
  }
}

export async function api(path, { method = 'GET', body } = {}) {
  const headers = { Authorization: `Bearer ${session.token() ?? ''}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;  // the manifest and blobs are JSON too; anything else stays text
  }
  if (!res.ok) {
    const e = (data && data.error) || {};
    throw new ApiError(res.status, e.code || `HTTP_${res.status}`, e.message || res.statusText, e.details);
  }
  return data;
}

// Path segment from a user-supplied name: names go through encodeURIComponent, never raw.
export const seg = (s) => encodeURIComponent(String(s));

// A file's bytes (GET with the token in the header, like every call) as a
// Blob, for a download the page then offers from memory (download.js).
export async function apiBlob(path) {
  const res = await fetch(`/api/v1${path}`, { headers: { Authorization: `Bearer ${session.token() ?? ''}` }, cache: 'no-store' });
  if (!res.ok) {
    let e = {};
    try { e = (await res.json()).error || {}; } catch { /* not JSON */ }
    throw new ApiError(res.status, e.code || `HTTP_${res.status}`, e.message || res.statusText, e.details);
  }
  return res.blob();
}
