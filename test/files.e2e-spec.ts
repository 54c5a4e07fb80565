import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { SmtpInbox } from '../src/delivery/smtp-inbox';
import { createTestDatabase, startApp, startInbox, TestApp } from './harness';
import { AUDIENCE, bearer, ISSUER, JwksServer, SigningKey, signingKey, signToken } from './tokens';

const SERVICE_KEY = 'files-service-key-0123456789abcdef';
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200, 7)]);
const PDF = Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(100, 1), Buffer.from([0xff, 0xd9])]);
const ICS = Buffer.from('BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Voyages//FR\r\nEND:VCALENDAR\r\n');
const TEXT = Buffer.from('Bon voyage, Zoë ! Réservation n° 42.\n');
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** POST /v1/files and the file endpoints (real Postgres, AUTH_MODE=on, FILE_MAX_BYTES 64 KB). */
describe('Files (real Postgres, AUTH_MODE=on)', () => {
  let inbox: SmtpInbox;
  let service: TestApp;
  let key: SigningKey;
  let db: DataSource;
  const jwks = new JwksServer();
  const asService = { authorization: `Bearer ${SERVICE_KEY}` };
  const person = async (sub: string, roles: string[] = ['customer']) => bearer(await signToken(key, { sub, roles }));
  const api = () => request(service.url);
  const upload = (headers: Record<string, string>, bytes: Buffer, filename: string, contentType: string) =>
    api().post('/v1/files').set(headers).attach('file', bytes, { filename, contentType });

  beforeAll(async () => {
    inbox = await startInbox();
    key = await signingKey('k1');
    jwks.keys = [key.jwk];
    service = await startApp({
      databaseUrl: await createTestDatabase(),
      smtpUrl: inbox.smtpUrl,
      env: {
        AUTH_MODE: 'on',
        API_KEYS: `booking:${SERVICE_KEY}`,
        JWT_JWKS_URL: await jwks.start(),
        JWT_ISSUER: ISSUER,
        JWT_AUDIENCE: AUDIENCE,
        FILE_MAX_BYTES: String(64 * 1024),
      },
    });
    db = service.app.get(DataSource);
  });

  afterAll(async () => {
    await service?.close();
    await jwks.stop();
    await inbox?.stop();
  });

  it.each([
    ['application/pdf', 'voucher.pdf', PDF],
    ['image/png', 'map.png', PNG],
    ['image/jpeg', 'hotel.jpg', JPEG],
    ['text/calendar', 'trip.ics', ICS],
    ['text/plain', 'notes.txt', TEXT],
  ])('stores %s, answers 201 with Location, and gives the same bytes back', async (type, filename, bytes) => {
    const res = await upload(asService, bytes, filename, type).expect(201);
    expect(res.body).toMatchObject({ filename, contentType: type, size: bytes.length, sha256: sha256(bytes) });
    expect(res.headers.location).toMatch(new RegExp(`/v1/files/${res.body.id}$`));
    expect(res.body.links.map((link: { rel: string }) => link.rel)).toEqual(['self', 'content']);
    const meta = await api().get(`/v1/files/${res.body.id}`).set(asService).expect(200);
    expect(meta.body).toEqual(res.body);
    const content = await api()
      .get(`/v1/files/${res.body.id}/content`)
      .set(asService)
      .buffer(true)
      .parse((r, done) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => done(null, Buffer.concat(chunks)));
      })
      .expect(200);
    expect(Buffer.compare(content.body as Buffer, bytes)).toBe(0);
    expect(content.headers['content-type']).toContain(type);
    expect(content.headers['content-disposition']).toBe(
      `attachment; filename="${filename}"; filename*=UTF-8''${filename}`,
    );
  });

  it('encodes a name outside ASCII safely in Content-Disposition', async () => {
    const res = await upload(asService, TEXT, 'réservation été; x(1).txt', 'text/plain').expect(201);
    const content = await api().get(`/v1/files/${res.body.id}/content`).set(asService).expect(200);
    expect(content.headers['content-disposition']).toBe(
      `attachment; filename="r_servation _t_; x(1).txt"; filename*=UTF-8''r%C3%A9servation%20%C3%A9t%C3%A9%3B%20x%281%29.txt`,
    );
  });

  it('stores equal bytes once: two uploads, two files, one blob', async () => {
    const bytes = Buffer.from('Same bytes, uploaded twice.\n');
    const first = await upload(asService, bytes, 'a.txt', 'text/plain').expect(201);
    const second = await upload(asService, bytes, 'b.txt', 'text/plain').expect(201);
    expect(second.body.id).not.toBe(first.body.id);
    expect(second.body.sha256).toBe(first.body.sha256);
    const [{ blobs, files }] = await db.query(
      `SELECT (SELECT count(*)::int FROM file_blob WHERE sha256 = $1) AS blobs, (SELECT count(*)::int FROM file WHERE sha256 = $1) AS files`,
      [sha256(bytes)],
    );
    expect({ blobs, files }).toEqual({ blobs: 1, files: 2 });
  });

  it('answers 415 to bytes that are not of the declared type, and to a type not listed', async () => {
    const before = await db.query(`SELECT count(*)::int AS n FROM file`);
    const lie = await upload(asService, PDF, 'fake.png', 'image/png').expect(415);
    expect(lie.body).toMatchObject({ name: 'UNSUPPORTED_MEDIA_TYPE', details: [{ field: 'file', location: 'body' }] });
    await upload(asService, Buffer.from('GIF89a...'), 'a.gif', 'image/gif').expect(415);
    await upload(asService, Buffer.from('not\u0000text'), 'nul.txt', 'text/plain').expect(415);
    await upload(asService, Buffer.from([0xc3, 0x28, 0x41]), 'bad.txt', 'text/plain').expect(415);
    await upload(asService, TEXT, 'x.ics', 'text/calendar').expect(415);
    expect(await db.query(`SELECT count(*)::int AS n FROM file`)).toEqual(before);
  });

  it('answers 413 with the error body past FILE_MAX_BYTES (1 MB sent, 64 KB allowed), nothing stored', async () => {
    const big = Buffer.alloc(1024 * 1024, 0x61);
    const res = await upload(asService, big, 'big.txt', 'text/plain').catch(
      (error: { response?: request.Response }) => {
        if (!error.response) throw error;
        return error.response;
      },
    );
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ name: 'PAYLOAD_TOO_LARGE', details: [{ field: 'file', location: 'body' }] });
    expect(await db.query(`SELECT count(*)::int AS n FROM file_blob WHERE sha256 = $1`, [sha256(big)])).toEqual([
      { n: 0 },
    ]);
    // At the limit exactly it is taken.
    await upload(asService, Buffer.alloc(64 * 1024, 0x62), 'limit.txt', 'text/plain').expect(201);
  });

  it('refuses a body without the file part, a JSON body, and a caller without a token', async () => {
    await api().post('/v1/files').set(asService).field('other', 'x').expect(400);
    await api().post('/v1/files').set(asService).send({ file: 'x' }).expect(415);
    await api().post('/v1/files').attach('file', TEXT, { filename: 'a.txt', contentType: 'text/plain' }).expect(401);
  });

  it("lets a person upload and read their own files, not another's (404); services and admins read any", async () => {
    const ana = await person('ana');
    const bob = await person('bob', ['agent']);
    const own = await upload(ana, TEXT, 'ana.txt', 'text/plain').expect(201);
    await api().get(`/v1/files/${own.body.id}`).set(ana).expect(200);
    await api().get(`/v1/files/${own.body.id}/content`).set(ana).expect(200);
    const other = await api().get(`/v1/files/${own.body.id}`).set(bob).expect(404);
    expect(other.body).toMatchObject({ name: 'RESOURCE_NOT_FOUND' });
    await api().get(`/v1/files/${own.body.id}/content`).set(bob).expect(404);
    await api()
      .get(`/v1/files/${own.body.id}`)
      .set(await person('root', ['admin']))
      .expect(200);
    await api().get(`/v1/files/${own.body.id}`).set(asService).expect(200);
    const byService = await upload(asService, PDF, 'v.pdf', 'application/pdf').expect(201);
    await api().get(`/v1/files/${byService.body.id}`).set(ana).expect(404);
    await api().get(`/v1/files/${own.body.id}`).expect(401);
    await api().get('/v1/files/00000000-0000-4000-8000-000000000000').set(asService).expect(404);
  });
});

/** Issue 21, item 2: a 200 MB upload refused at the default FILE_MAX_BYTES (10 MB) without memory following it. */
describe('Files: memory while a 200 MB upload is refused (default FILE_MAX_BYTES)', () => {
  let inbox: SmtpInbox;
  let service: TestApp;

  beforeAll(async () => {
    inbox = await startInbox();
    service = await startApp({ databaseUrl: await createTestDatabase(), smtpUrl: inbox.smtpUrl });
  });

  afterAll(async () => {
    await service?.close();
    await inbox?.stop();
  });

  it('answers 413 (or closes) at 10 MB of a 200 MB upload, the RSS of the process growing by less than 20 MB', async () => {
    expect(service.config.files.maxBytes).toBe(10 * 1024 * 1024);
    const total = 200 * 1024 * 1024;
    const boundary = 'files-memory-boundary';
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\nContent-Type: text/plain\r\n\r\n`,
    );
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    (global as { gc?: () => void }).gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const started = Date.now();
    const result = await new Promise<{ status?: number; error?: string; sent: number }>((resolve) => {
      let sent = 0;
      let finished = false;
      const finish = (outcome: { status?: number; error?: string }) => {
        if (finished) return;
        finished = true;
        resolve({ ...outcome, sent });
      };
      const req = httpRequest(`${service.url}/v1/files`, {
        method: 'POST',
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      });
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => finish({ status: res.statusCode }));
      });
      req.on('error', (error) => finish({ error: (error as NodeJS.ErrnoException).code ?? error.message }));
      const write = () => {
        while (!finished && sent < total) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', write);
        }
        if (!finished) req.end(`\r\n--${boundary}--\r\n`);
      };
      req.write(head);
      write();
    });
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    const growth = peak - before;
    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
    console.log(
      `200 MB upload, FILE_MAX_BYTES 10 MB: ${result.status ?? result.error} after ${mb(result.sent)} written in ${Date.now() - started} ms; ` +
        `RSS ${mb(before)} → peak ${mb(peak)} (growth ${mb(growth)}; client and server share this process)`,
    );
    expect(result.status === 413 || result.error !== undefined).toBe(true);
    expect(result.sent).toBeLessThan(total);
    expect(growth).toBeLessThan(20 * 1024 * 1024);
  });
});
