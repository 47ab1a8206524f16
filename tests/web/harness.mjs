// Test harness for the web UI: a real `modelreg serve` on a free loopback
// port over a temp data dir, seeded with the real CLI as users would, and a
// headless Debian chromium driven by playwright-core.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const kChromium = '/usr/bin/chromium';
export const kXss = '<img src=x onerror=alert(1)>';

export class Registry {
  constructor(bin) {
    if (!bin || !existsSync(bin)) throw new Error(`modelreg binary not found: ${bin} (set MODELREG_BIN)`);
    this.bin = bin;
    this.dir = mkdtempSync(join(tmpdir(), 'modelreg-web-'));
    this.data = join(this.dir, 'data');
    this.logFile = join(this.dir, 'serve.log');
  }

  async start() {
    mkdirSync(this.data);
    const log = openSync(this.logFile, 'w');
    this.proc = spawn(this.bin, ['serve', '--data', this.data, '--listen', '127.0.0.1:0'],
      { stdio: ['ignore', log, log] });
    closeSync(log);  // the child has its own copy
    const urlFile = join(this.data, 'serve.url');
    const deadline = Date.now() + 20000;
    while (!existsSync(urlFile)) {
      if (this.proc.exitCode !== null) throw new Error(`modelreg serve exited:\n${this.log()}`);
      if (Date.now() > deadline) throw new Error(`modelreg serve did not start:\n${this.log()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    this.url = readFileSync(urlFile, 'utf8').trim();
    this.adminToken = readFileSync(join(this.data, 'admin.token'), 'utf8').trim();
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null) {
      const exited = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  log() {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  // Runs the CLI; returns stdout, throws with stderr on failure.
  cli(args, token) {
    const env = { ...process.env, MODELREG_URL: this.url, MODELREG_TOKEN: token ?? '' };
    try {
      return execFileSync(this.bin, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      throw new Error(`modelreg ${args.join(' ')} failed: ${e.stderr}`);
    }
  }

  createToken(name, role) {
    return this.cli(['token', 'create', '--data', this.data, '--role', role, '--name', name]).trim();
  }

  // A bundle directory whose one weight file differs by `seed`.
  bundle(name, seed) {
    const dir = join(this.dir, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'model.bin'), Buffer.alloc(4096 + seed * 1000, seed));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ layers: 3 }));
    return dir;
  }

  // One HTTP request on its own connection: a kept-alive idle connection
  // would hold up the server's shutdown until its keep-alive timeout.
  request(method, path, { token, body } = {}) {
    const headers = { Connection: 'close' };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return new Promise((resolve, reject) => {
      const req = http.request(`${this.url}${path}`, { method, headers, agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => { text += chunk; });
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
      });
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  async post(path, token, body) {
    const res = await this.request('POST', path, { token, body });
    if (res.status >= 300) throw new Error(`POST ${path}: ${res.status} ${res.text}`);
  }
}
