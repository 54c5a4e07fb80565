import { connect } from 'node:net';
import { Client } from 'pg';
import request from 'supertest';
import { SmtpInbox } from '../src/delivery/smtp-inbox';
import { putRecipients } from './fixtures';
import { createTestDatabase, startApp, startInbox, TestApp } from './harness';

/**
 * The contract's "Text input", "Errors" and "Access" (headers, CORS, timeouts) rules, tried as an
 * outside tester would: each malformed request answers its 4xx in the error body, with the
 * correlation id, and changes no row of any table.
 */

interface Case {
  name: string;
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string | (() => string);
  body?: unknown;
  /** A raw body sent as is, with this content type. */
  raw?: { type: string; text: string };
  status: number;
  error: string;
  /** A detail that must be there: the field (exact) and where it was read. */
  detail?: { field: string; location: string; issue?: RegExp };
}

const mail = { receiversId: ['user-1'], category: 'PROFILE_COMPLETION_REQUEST' };
const contact = { name: 'Camille Martin', mail: 'camille@example.com', object: 'Dog on the trip', message: 'Hello' };
const conversation = {
  tripPublicationId: 'TRIP-1',
  tripReference: 'VOY-1',
  establishmentId: 'EST-1',
  customerId: 'customer-1',
};

/** `{"a":{"a":…1…}}` nested `depth` levels deep, as text (JSON.stringify would recurse). */
function nested(depth: number): string {
  return `${'{"a":'.repeat(depth - 1)}{"a":1}${'}'.repeat(depth - 1)}`;
}

/** Sends `text` on a raw socket and reads the answer until the server closes or a full response arrives. */
function rawHttp(
  port: number,
  text: string,
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const done = () => {
      const [head, ...rest] = received.split('\r\n\r\n');
      const [statusLine, ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(
        lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
      );
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
    };
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
      const length = /\r\ncontent-length: (\d+)/i.exec(received)?.[1];
      const bodyStart = received.indexOf('\r\n\r\n');
      if (
        length !== undefined &&
        bodyStart >= 0 &&
        Buffer.byteLength(received.slice(bodyStart + 4), 'latin1') >= Number(length)
      ) {
        socket.destroy();
        done();
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => (received ? done() : reject(error)));
    socket.on('close', () => (received ? done() : reject(new Error('closed without an answer'))));
    socket.write(text);
  });
}

describe('Malformed input and HTTP-level robustness (real Postgres, real SMTP)', () => {
  let inbox: SmtpInbox;
  let service: TestApp;
  let db: Client;
  let conversationId: string;
  const api = () => request(service.url);
  const port = () => Number(new URL(service.url).port);

  /** Rows of every table of the service, to show a refused request changed nothing. */
  async function rowCounts(): Promise<Record<string, number>> {
    const tables = await db.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name",
    );
    const counts: Record<string, number> = {};
    for (const { table_name } of tables.rows) {
      const result = await db.query<{ n: string }>(`SELECT count(*) AS n FROM "${table_name}"`);
      counts[table_name] = Number(result.rows[0].n);
    }
    return counts;
  }

  beforeAll(async () => {
    const databaseUrl = await createTestDatabase();
    inbox = await startInbox();
    service = await startApp({
      databaseUrl,
      smtpUrl: inbox.smtpUrl,
      env: { CONTACT_INBOX_EMAIL: 'support@voyages.test' },
    });
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
    await putRecipients(service.url, [{ id: 'user-1', email: 'user-1@voyages.test' }]);
    const created = await api().post('/v1/conversations').send(conversation).expect(201);
    conversationId = created.body.id;
  });

  afterAll(async () => {
    await db?.end();
    await service?.close();
    await inbox?.stop();
  });

  const cases: Case[] = [
    // The text rule: NUL and other C0 controls, in every kind of text field and in query/path values.
    {
      name: 'NUL in a receiver id',
      method: 'post',
      path: '/v1/mails',
      body: { ...mail, receiversId: ['user\u00001'] },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'receiversId[0]', location: 'body' },
    },
    {
      name: 'NUL in an optional id',
      method: 'post',
      path: '/v1/mails',
      body: { ...mail, reservationId: 'RES\u0000' },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'reservationId', location: 'body' },
    },
    {
      name: 'NUL in a variable value',
      method: 'post',
      path: '/v1/mails',
      body: { ...mail, variables: { note: 'a\u0000b' } },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'variables.note', location: 'body' },
    },
    {
      name: 'NUL in a variable name',
      method: 'post',
      path: '/v1/mails',
      body: { ...mail, variables: { 'no\u0000te': 'x' } },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'variables.no\u0000te', location: 'body' },
    },
    {
      name: 'a line break in a variable value (it may reach a subject)',
      method: 'post',
      path: '/v1/mails',
      body: { ...mail, variables: { note: 'a\r\nBcc: victim@evil.test' } },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'variables.note', location: 'body' },
    },
    {
      name: 'a lone high surrogate in a variable value',
      method: 'post',
      path: '/v1/mails',
      body: { ...mail, variables: { note: 'a\ud800b' } },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'variables.note', location: 'body', issue: /surrogate/ },
    },
    {
      name: 'a lone low surrogate in a variable name',
      method: 'post',
      path: '/v1/mails',
      body: { ...mail, variables: { ['n\udc00']: 'x' } },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'variables.n\udc00', location: 'body', issue: /surrogate/ },
    },
    {
      name: 'a lone surrogate in an e-mail address',
      method: 'put',
      path: '/v1/recipients/user-2',
      body: { email: 'a\ud83d@voyages.test' },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'email', location: 'body', issue: /surrogate/ },
    },
    {
      name: 'NUL in a contact name',
      method: 'post',
      path: '/v1/contacts',
      body: { ...contact, name: 'Eve\u0000' },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'name', location: 'body' },
    },
    {
      name: 'a line break in a contact name',
      method: 'post',
      path: '/v1/contacts',
      body: { ...contact, name: 'Eve\r\nBcc: victim@evil.test' },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'name', location: 'body' },
    },
    {
      name: 'a tab in a contact object',
      method: 'post',
      path: '/v1/contacts',
      body: { ...contact, object: 'Hi\tthere' },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'object', location: 'body' },
    },
    {
      name: 'a line break in a contact address',
      method: 'post',
      path: '/v1/contacts',
      body: { ...contact, mail: 'eve@example.com\r\nBcc: victim@evil.test' },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'mail', location: 'body' },
    },
    {
      name: 'NUL in a contact message (multi-line, but NUL never)',
      method: 'post',
      path: '/v1/contacts',
      body: { ...contact, message: 'line 1\nline\u0000 2' },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'message', location: 'body' },
    },
    {
      name: 'an escape character in a message content',
      method: 'post',
      path: () => `/v1/conversations/${conversationId}/messages`,
      body: { transmitterId: 'customer-1', content: 'hi \u001b[31m' },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'content', location: 'body' },
    },
    {
      name: 'a line break in a nested first message transmitter',
      method: 'post',
      path: '/v1/conversations',
      body: { ...conversation, lastMessage: { content: 'ok\nfine', transmitterId: 'customer-1\n' } },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'lastMessage.transmitterId', location: 'body' },
    },
    {
      name: 'a line break in a conversation field',
      method: 'post',
      path: '/v1/conversations',
      body: { ...conversation, tripReference: 'VOY\n1' },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'tripReference', location: 'body' },
    },
    {
      name: 'NUL in a query value',
      method: 'get',
      path: '/v1/mails?receiverId=a%00b',
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'receiverId', location: 'query' },
    },
    {
      name: 'an escape character in a query value',
      method: 'get',
      path: '/v1/conversations?customerId=a%1Bb',
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'customerId', location: 'query' },
    },
    {
      name: 'NUL in a path value',
      method: 'get',
      path: '/v1/recipients/a%00b',
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'recipientId', location: 'path' },
    },
    // Invisible and direction-changing characters (bidi overrides, zero-width, BOM…) in ids and addresses.
    {
      name: 'a right-to-left override in a suppressed address (path)',
      method: 'put',
      path: '/v1/suppressions/%E2%80%AEevil%40example.com',
      body: {},
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'email', location: 'path', issue: /invisible/ },
    },
    {
      name: 'a zero-width space in a recipient id (path)',
      method: 'put',
      path: '/v1/recipients/user%E2%80%8B9',
      body: { email: 'user-9@voyages.test' },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'recipientId', location: 'path', issue: /invisible/ },
    },
    {
      name: 'a right-to-left override in a recipient address',
      method: 'put',
      path: '/v1/recipients/user-9',
      body: { email: '\u202eevil@example.com' },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'email', location: 'body', issue: /invisible/ },
    },
    {
      name: 'a left-to-right isolate in a contact address',
      method: 'post',
      path: '/v1/contacts',
      body: { ...contact, mail: '\u2066eve@example.com' },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'mail', location: 'body', issue: /invisible/ },
    },
    {
      name: 'a zero-width space in a receiver id',
      method: 'post',
      path: '/v1/mails',
      body: { ...mail, receiversId: ['user\u200b1'] },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'receiversId[0]', location: 'body', issue: /invisible/ },
    },
    {
      name: 'a right-to-left override in a publication id',
      method: 'post',
      path: '/v1/mails',
      body: { ...mail, publicationId: 'PUB\u202e1' },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'publicationId', location: 'body', issue: /invisible/ },
    },
    {
      name: 'a first-strong isolate in a cancellation id',
      method: 'post',
      path: '/v1/mails/cancellations',
      body: { reservationId: 'RES\u2068' },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'reservationId', location: 'body', issue: /invisible/ },
    },
    {
      name: 'a right-to-left mark in a query id',
      method: 'get',
      path: '/v1/mails?receiverId=a%E2%80%8Fb',
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'receiverId', location: 'query', issue: /invisible/ },
    },
    {
      name: 'a byte order mark in a customer id',
      method: 'post',
      path: '/v1/conversations',
      body: { ...conversation, customerId: 'customer\ufeff1' },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'customerId', location: 'body', issue: /invisible/ },
    },
    {
      name: 'a zero-width joiner in a participant',
      method: 'post',
      path: '/v1/conversations',
      body: { ...conversation, participants: ['agent\u200d7'] },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'participants[0]', location: 'body', issue: /invisible/ },
    },
    {
      name: 'an Arabic letter mark in an assigned agent',
      method: 'patch',
      path: () => `/v1/conversations/${conversationId}/assigned-agent`,
      body: { assignedAgentId: 'agent\u061c7' },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'assignedAgentId', location: 'body', issue: /invisible/ },
    },
    {
      name: 'a Mongolian vowel separator in a transmitter id',
      method: 'post',
      path: () => `/v1/conversations/${conversationId}/messages`,
      body: { transmitterId: 'customer-1\u180e', content: 'hi' },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'transmitterId', location: 'body', issue: /invisible/ },
    },
    // null in a PATCH field that null does not clear.
    {
      name: 'a null scheduledAt on a reschedule',
      method: 'patch',
      path: '/v1/mails/00000000-0000-4000-8000-000000000000',
      body: { scheduledAt: null },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'scheduledAt', location: 'body' },
    },
    {
      name: 'a null assigned agent',
      method: 'patch',
      path: () => `/v1/conversations/${conversationId}/assigned-agent`,
      body: { assignedAgentId: null },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'assignedAgentId', location: 'body' },
    },
    {
      name: 'a null message status',
      method: 'patch',
      path: () => `/v1/conversations/${conversationId}/messages/00000000-0000-4000-8000-000000000000`,
      body: { status: null },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'status', location: 'body' },
    },
    // Page parameters spelled as other APIs spell them: the detail names the one that exists.
    {
      name: 'pageSize instead of sizePage',
      method: 'get',
      path: '/v1/mails?pageSize=5',
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'pageSize', location: 'query', issue: /did you mean sizePage\?/ },
    },
    {
      name: 'limit instead of sizePage',
      method: 'get',
      path: '/v1/conversations?limit=5',
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'limit', location: 'query', issue: /did you mean sizePage\?/ },
    },
    {
      name: 'page instead of currentPage',
      method: 'get',
      path: '/v1/webhooks?page=2',
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'page', location: 'query', issue: /did you mean currentPage\?/ },
    },
    {
      name: 'an unknown query parameter',
      method: 'get',
      path: '/v1/mails?colour=red',
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'colour', location: 'query', issue: /^unknown query parameter$/ },
    },
    // Numbers outside their range.
    {
      name: 'currentPage=1e20',
      method: 'get',
      path: '/v1/mails?currentPage=1e20',
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'currentPage', location: 'query' },
    },
    {
      name: 'currentPage=1000001',
      method: 'get',
      path: '/v1/mails?currentPage=1000001',
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'currentPage', location: 'query' },
    },
    {
      name: 'currentPage=-1',
      method: 'get',
      path: '/v1/conversations?currentPage=-1',
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'currentPage', location: 'query' },
    },
    {
      name: 'currentPage=abc',
      method: 'get',
      path: '/v1/mails?currentPage=abc',
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'currentPage', location: 'query' },
    },
    {
      name: 'currentPage=1e20 on conversation messages',
      method: 'get',
      path: () => `/v1/conversations/${conversationId}/messages?currentPage=1e20`,
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'currentPage', location: 'query' },
    },
    {
      name: 'sizePage=101',
      method: 'get',
      path: '/v1/mails?sizePage=101',
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'sizePage', location: 'query' },
    },
    {
      name: 'a variable of 1e400 (not a finite number)',
      method: 'post',
      path: '/v1/mails',
      raw: {
        type: 'application/json',
        text: '{"receiversId":["user-1"],"category":"PROFILE_COMPLETION_REQUEST","variables":{"n":1e400}}',
      },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'variables', location: 'body' },
    },
    // JSON depth, JSON only.
    {
      name: 'JSON nested 10,000 deep',
      method: 'post',
      path: '/v1/mails',
      raw: { type: 'application/json', text: nested(10_000) },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'body', location: 'body', issue: /deeper than 32/ },
    },
    {
      name: 'JSON nested 33 deep',
      method: 'post',
      path: '/v1/mails',
      raw: { type: 'application/json', text: nested(33) },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'body', location: 'body', issue: /deeper than 32/ },
    },
    {
      name: 'unparseable JSON',
      method: 'post',
      path: '/v1/mails',
      raw: { type: 'application/json', text: '{"receiversId": [' },
      status: 400,
      error: 'MALFORMED_REQUEST',
    },
    {
      name: 'a form post',
      method: 'post',
      path: '/v1/contacts',
      raw: {
        type: 'application/x-www-form-urlencoded',
        text: 'name=Eve&mail=eve%40example.com&object=Hi&message=Hello',
      },
      status: 415,
      error: 'UNSUPPORTED_MEDIA_TYPE',
      detail: { field: 'Content-Type', location: 'header' },
    },
    {
      name: 'a text/plain body',
      method: 'post',
      path: '/v1/mails',
      raw: { type: 'text/plain', text: JSON.stringify(mail) },
      status: 415,
      error: 'UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'a multipart body',
      method: 'put',
      path: '/v1/recipients/user-3',
      raw: {
        type: 'multipart/form-data; boundary=x',
        text: '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\na@b.test\r\n--x--\r\n',
      },
      status: 415,
      error: 'UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'a body over 1 MB',
      method: 'post',
      path: '/v1/mails',
      body: { ...mail, variables: { big: 'x'.repeat(1024 * 1024) } },
      status: 413,
      error: 'PAYLOAD_TOO_LARGE',
    },
    // Arrays: length first, duplicates in linear time.
    {
      name: '100,001 receivers',
      method: 'post',
      path: '/v1/mails',
      body: { ...mail, receiversId: Array.from({ length: 100_001 }, (_, i) => String(i)) },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'receiversId', location: 'body', issue: /at most 1000/ },
    },
    {
      name: 'twice the same receiver',
      method: 'post',
      path: '/v1/mails',
      body: { ...mail, receiversId: ['user-1', 'user-2', 'user-1'] },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'receiversId', location: 'body' },
    },
    // Addresses: plain local@domain only.
    {
      name: 'a display name in a recipient address',
      method: 'put',
      path: '/v1/recipients/user-2',
      body: { email: 'Camille <camille@example.com>' },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'email', location: 'body' },
    },
    {
      name: 'a quoted local part',
      method: 'put',
      path: '/v1/recipients/user-2',
      body: { email: '"camille martin"@example.com' },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'email', location: 'body' },
    },
    {
      name: 'a comment in an address',
      method: 'put',
      path: '/v1/recipients/user-2',
      body: { email: 'camille(comment)@example.com' },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'email', location: 'body' },
    },
    {
      name: 'a group address',
      method: 'post',
      path: '/v1/contacts',
      body: { ...contact, mail: 'friends: a@example.com, b@example.com;' },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'mail', location: 'body' },
    },
    {
      name: 'two addresses',
      method: 'post',
      path: '/v1/contacts',
      body: { ...contact, mail: 'eve@example.com,victim@evil.test' },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'mail', location: 'body' },
    },
    // Unknown fields, prototype keys.
    {
      name: 'an unknown field',
      method: 'post',
      path: '/v1/contacts',
      body: { ...contact, admin: true },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'admin', location: 'body' },
    },
    {
      name: 'an unknown nested field',
      method: 'post',
      path: '/v1/conversations',
      body: { ...conversation, lastMessage: { content: 'hi', sneaky: 1 } },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'lastMessage.sneaky', location: 'body' },
    },
    {
      name: 'a __proto__ key',
      method: 'post',
      path: '/v1/mails',
      raw: {
        type: 'application/json',
        text: `{"__proto__":{"polluted":true},"receiversId":["user-1"],"category":"PROFILE_COMPLETION_REQUEST"}`,
      },
      status: 400,
      error: 'MALFORMED_REQUEST',
    },
    {
      name: 'a constructor.prototype key',
      method: 'post',
      path: '/v1/mails',
      raw: {
        type: 'application/json',
        text: `{"constructor":{"prototype":{"polluted":true}},"receiversId":["user-1"],"category":"PROFILE_COMPLETION_REQUEST"}`,
      },
      status: 400,
      error: 'MALFORMED_REQUEST',
    },
    // Ids and URLs.
    {
      name: 'a recipient id of 256 characters',
      method: 'put',
      path: `/v1/recipients/${'r'.repeat(256)}`,
      body: { email: 'long@voyages.test' },
      status: 400,
      error: 'VALIDATION_ERROR',
      detail: { field: 'recipientId', location: 'path' },
    },
    {
      name: 'a URL over 8 KB (query)',
      method: 'get',
      path: `/v1/mails?receiverId=${'x'.repeat(9000)}`,
      status: 414,
      error: 'URI_TOO_LONG',
    },
    {
      name: 'a URL over 8 KB (path parameter)',
      method: 'get',
      path: `/v1/recipients/${'x'.repeat(9000)}`,
      status: 414,
      error: 'URI_TOO_LONG',
    },
    {
      name: 'bad URL encoding',
      method: 'get',
      path: '/v1/recipients/%E0%A4%A',
      status: 400,
      error: 'MALFORMED_REQUEST',
    },
    { name: 'an unknown route', method: 'get', path: '/v1/nothing-here', status: 404, error: 'RESOURCE_NOT_FOUND' },
    {
      name: 'a method the route does not have',
      method: 'delete',
      path: '/v1/mails',
      status: 404,
      error: 'RESOURCE_NOT_FOUND',
    },
  ];

  it.each(cases.map((c) => [c.name, c] as const))(
    '%s: answers its 4xx in the error body and changes nothing',
    async (_name, c) => {
      const before = await rowCounts();
      const path = typeof c.path === 'function' ? c.path() : c.path;
      let call = api()[c.method](path).set('X-Correlation-ID', 'malformed-1');
      if (c.raw) call = call.set('Content-Type', c.raw.type).send(c.raw.text);
      else if (c.body !== undefined) call = call.send(c.body as object);
      const res = await call;
      expect({ status: res.status, name: res.body.name }).toEqual({ status: c.status, name: c.error });
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['x-correlation-id']).toBe('malformed-1');
      expect(res.body).toEqual({
        name: c.error,
        debug_id: 'malformed-1',
        message: expect.any(String),
        information_link: expect.stringContaining(`/docs/errors#${c.error}`),
        details: expect.any(Array),
        links: [],
      });
      if (c.detail) {
        expect(res.body.details).toEqual(
          expect.arrayContaining([
            expect.objectContaining({
              field: c.detail.field,
              location: c.detail.location,
              issue: expect.stringMatching(c.detail.issue ?? /./),
            }),
          ]),
        );
      }
      expect(await rowCounts()).toEqual(before);
    },
  );

  it('reports the length of 100,001 receivers once, not a detail per item', async () => {
    const res = await api()
      .post('/v1/mails')
      .send({ ...mail, receiversId: Array.from({ length: 100_001 }, (_, i) => (i % 2 ? i : `u${i}`)) })
      .expect(400);
    expect(res.body.details).toEqual([expect.objectContaining({ field: 'receiversId', value: '[array of 100001]' })]);
  });

  it('accepts 32 levels of JSON (refused for its content, not its depth)', async () => {
    const res = await api().post('/v1/mails').set('Content-Type', 'application/json').send(nested(32)).expect(400);
    expect(res.body.name).toBe('VALIDATION_ERROR');
    expect(JSON.stringify(res.body.details)).not.toContain('deeper');
  });

  it('leaves Object.prototype alone after __proto__ and constructor keys', () => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('accepts JSON with a charset and +json media types', async () => {
    await api()
      .post('/v1/mails')
      .set('Content-Type', 'application/json; charset=utf-8')
      .send(JSON.stringify(mail))
      .expect(202);
    await api()
      .put('/v1/recipients/user-json')
      .set('Content-Type', 'application/merge-patch+json')
      .send(JSON.stringify({ email: 'json@voyages.test' }))
      .expect(201);
  });

  it('keeps tabs and line breaks in multi-line fields (contact message, message content)', async () => {
    const sent = await api()
      .post('/v1/contacts')
      .send({ ...contact, message: 'Hello,\r\n\tcan I bring my dog?\nThanks' })
      .expect(201);
    expect(sent.body.message).toBe('Hello,\r\n\tcan I bring my dog?\nThanks');
    const message = await api()
      .post(`/v1/conversations/${conversationId}/messages`)
      .send({ transmitterId: 'customer-1', content: 'line 1\nline 2\tend' })
      .expect(201);
    expect(message.body.content).toBe('line 1\nline 2\tend');
  });

  it('keeps invisible and direction-changing characters in free text (right-to-left languages, emoji sequences)', async () => {
    const name = 'Dana \u200fשלום\u200f';
    const message = 'مرحبا \u202bالرحلة\u202c 👩\u200d💻 \u2067x\u2069';
    const sent = await api()
      .post('/v1/contacts')
      .send({ ...contact, name, message })
      .expect(201);
    const shown = await api().get(`/v1/contacts/${sent.body.id}`).expect(200);
    expect({ name: shown.body.name, message: shown.body.message }).toEqual({ name, message });
    const posted = await api()
      .post(`/v1/conversations/${conversationId}/messages`)
      .send({ transmitterId: 'customer-1', content: message })
      .expect(201);
    expect(posted.body.content).toBe(message);
  });

  it('judges each item of a batch on its own: an item with a control or invisible character is a 400 of its own, the others are accepted', async () => {
    const before = await db.query<{ n: string }>('SELECT count(*) AS n FROM mail');
    const res = await api()
      .post('/v1/mails/batch')
      .send([
        mail,
        { ...mail, receiversId: ['user\u00001'] },
        { ...mail, publicationId: 'PUB\u202e' },
        { ...mail, variables: { ['no\u0000te']: 'x' } },
        mail,
      ])
      .expect(200);
    const results = res.body.results as Array<{
      index: number;
      status: number;
      mail?: { id: string };
      error?: { name: string; details: Array<{ field: string; location: string }> };
    }>;
    expect(results.map((r) => [r.index, r.status])).toEqual([
      [0, 202],
      [1, 400],
      [2, 400],
      [3, 400],
      [4, 202],
    ]);
    expect(results[1].error).toMatchObject({
      name: 'VALIDATION_ERROR',
      details: [expect.objectContaining({ field: 'receiversId[0]', location: 'body' })],
    });
    expect(results[2].error).toMatchObject({
      name: 'VALIDATION_ERROR',
      details: [expect.objectContaining({ field: 'publicationId', location: 'body' })],
    });
    expect(results[3].error).toMatchObject({
      name: 'VALIDATION_ERROR',
      details: [expect.objectContaining({ field: 'variables.no\u0000te', location: 'body' })],
    });
    for (const accepted of [results[0], results[4]]) await api().get(`/v1/mails/${accepted.mail!.id}`).expect(200);
    const after = await db.query<{ n: string }>('SELECT count(*) AS n FROM mail');
    expect(Number(after.rows[0].n) - Number(before.rows[0].n)).toBe(2);
  });

  it('accepts an absent body where the body is optional, and an empty one sent as application/json', async () => {
    const sent = await api()
      .post('/v1/mails')
      .send({ ...mail, testMode: true })
      .expect(202);
    // No body, no Content-Type; then Content-Type: application/json with zero bytes (what many clients send).
    await api().post(`/v1/mails/${sent.body.id}/retry`).expect(409);
    await api().post(`/v1/mails/${sent.body.id}/retry`).set('Content-Type', 'application/json').expect(409);
    await api().put('/v1/suppressions/absent-body@example.com').expect(201);
    await api().put('/v1/suppressions/empty-body@example.com').set('Content-Type', 'application/json').expect(201);
    const shown = await api().get('/v1/suppressions/empty-body@example.com').expect(200);
    expect(shown.body).toMatchObject({ email: 'empty-body@example.com', reason: 'MANUAL', note: null });
    const hook = await api()
      .post('/v1/webhooks')
      .send({ url: 'http://127.0.0.1:9/absent', events: ['mail.sent'] })
      .expect(201);
    await api().delete(`/v1/webhooks/${hook.body.id}`).set('Content-Type', 'application/json').expect(204);
    // A body that is required still names each missing field.
    const missing = await api().post('/v1/mails').set('Content-Type', 'application/json').expect(400);
    expect(missing.body.name).toBe('VALIDATION_ERROR');
    expect(missing.body.details.map((d: { field: string }) => d.field)).toEqual(
      expect.arrayContaining(['receiversId', 'category']),
    );
  });

  it('serves recipient ids of 255 characters', async () => {
    const id = `r-${'é'.repeat(253)}`;
    await request(service.url)
      .put(`/v1/recipients/${encodeURIComponent(id)}`)
      .send({ email: 'long@voyages.test' })
      .expect(201);
    const res = await api()
      .get(`/v1/recipients/${encodeURIComponent(id)}`)
      .expect(200);
    expect(res.body.email).toBe('long@voyages.test');
  });

  describe('errors raised before any route (Node and Fastify)', () => {
    it('answers headers over 16 KB with 431 HEADERS_TOO_LARGE in the error body', async () => {
      const res = await rawHttp(
        port(),
        `GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      );
      expect(res.status).toBe(431);
      expect(res.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(JSON.parse(res.body)).toMatchObject({
        name: 'HEADERS_TOO_LARGE',
        debug_id: res.headers['x-correlation-id'],
        links: [],
      });
    });

    it('answers a request line over 16 KB with 414 URI_TOO_LONG in the error body', async () => {
      const res = await rawHttp(port(), `GET /v1/mails?x=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
      expect(res.status).toBe(414);
      expect(JSON.parse(res.body)).toMatchObject({ name: 'URI_TOO_LONG', debug_id: res.headers['x-correlation-id'] });
    });

    it('answers bytes that are not HTTP with 400 MALFORMED_REQUEST in the error body', async () => {
      const res = await rawHttp(port(), 'HELLO THERE\r\n\r\n');
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({
        name: 'MALFORMED_REQUEST',
        debug_id: res.headers['x-correlation-id'],
      });
    });
  });

  describe('header injection, read back from the real SMTP server', () => {
    it('lets no line break of a client reach a header of a sent mail', async () => {
      const before = inbox.messages.length;
      const attempts: Array<[string, string, object]> = [
        ['post', '/v1/contacts', { ...contact, name: 'Eve\r\nBcc: victim@evil.test' }],
        ['post', '/v1/contacts', { ...contact, object: 'Hi\nX-Injected: yes' }],
        ['post', '/v1/contacts', { ...contact, mail: 'eve@example.com\nBcc: victim@evil.test' }],
        ['post', '/v1/contacts', { ...contact, mail: 'eve@example.com\rBcc: victim@evil.test' }],
        [
          'post',
          '/v1/mails',
          {
            ...mail,
            category: 'TRIP_DRAFT_PUBLICATION_REQUEST',
            publicationId: 'PUB-1',
            variables: { tripTitle: 'Trip\r\nBcc: victim@evil.test' },
          },
        ],
        ['post', '/v1/mails', { ...mail, variables: { ['x\r\nBcc']: 'victim@evil.test' } }],
        ['put', '/v1/recipients/user-1', { email: 'user-1@voyages.test\r\nBcc: victim@evil.test' }],
        [
          'put',
          '/v1/recipients/user-1',
          { email: 'user-1@voyages.test', firstName: 'Camille\r\nBcc: victim@evil.test' },
        ],
      ];
      for (const [method, path, body] of attempts) {
        const res = await (method === 'put' ? api().put(path) : api().post(path)).send(body);
        expect([path, res.status, res.body.name]).toEqual([path, 400, 'VALIDATION_ERROR']);
      }
      // Then legitimate traffic, with a multi-line message whose "Bcc:" line must stay in the body.
      const sentContact = await api()
        .post('/v1/contacts')
        .send({ ...contact, mail: 'eve@voyages.test', message: 'Hello\r\nBcc: victim@evil.test' })
        .expect(201);
      await api()
        .post('/v1/mails')
        .send({
          ...mail,
          category: 'TRIP_DRAFT_PUBLICATION_REQUEST',
          publicationId: 'PUB-1',
          variables: { tripTitle: 'Calanques' },
        })
        .expect(202);
      const received = await inbox.waitFor((m) => m.id > before, 3);
      await inbox.waitFor((m) => String(m.parsed.headers.get('x-contact-id') ?? '') === sentContact.body.id, 2);
      for (const m of inbox.messages.filter((x) => x.id > before)) {
        expect(m.envelopeTo).not.toContain('victim@evil.test');
        expect(m.parsed.headers.has('bcc')).toBe(false);
        expect(m.parsed.headers.has('x-injected')).toBe(false);
        expect(m.raw).not.toMatch(/^Bcc:/im);
      }
      expect(received.length).toBeGreaterThanOrEqual(3);
    });
  });

  describe('security headers and CORS', () => {
    it('sends nosniff, a restrictive CSP on the API, no X-Powered-By and no HSTS outside production', async () => {
      const res = await api().get('/v1/templates').expect(200);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toContain("default-src 'none'");
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(res.headers['x-powered-by']).toBeUndefined();
      expect(res.headers['strict-transport-security']).toBeUndefined();
      expect(res.headers).toMatchObject({
        'x-frame-options': 'SAMEORIGIN',
        'referrer-policy': 'no-referrer',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-resource-policy': 'same-site',
        'x-permitted-cross-domain-policies': 'none',
      });
      const error = await api().get('/v1/nothing-here').expect(404);
      expect(error.headers['x-content-type-options']).toBe('nosniff');
    });

    it('lets Swagger UI load its own scripts and styles on /docs', async () => {
      const res = await api().get('/docs').redirects(1).expect(200);
      const csp = res.headers['content-security-policy'];
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self' 'unsafe-inline'");
      expect(csp).not.toContain("'unsafe-eval'");
      for (const asset of ['swagger-ui-bundle.js', 'swagger-ui-init.js', 'swagger-ui.css']) {
        expect(res.text).toContain(asset);
        await api().get(`/docs/${asset}`).expect(200);
      }
    });

    it('lets a template preview show its inline styles, but run no script', async () => {
      const res = await api().get('/v1/templates/TRIP_REMINDER_NOTIFICATION/preview').expect(200);
      const csp = res.headers['content-security-policy'];
      expect(csp).toContain("style-src 'unsafe-inline'");
      expect(csp).toContain("default-src 'none'");
      expect(csp).not.toContain('script-src');
    });

    it('sends no CORS headers when CORS_ORIGINS is unset', async () => {
      const preflight = await api()
        .options('/v1/mails')
        .set('Origin', 'https://app.voyages.test')
        .set('Access-Control-Request-Method', 'POST');
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
      const simple = await api().get('/v1/templates').set('Origin', 'https://app.voyages.test');
      expect(simple.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('answers only the origins of CORS_ORIGINS', async () => {
      const other = await startApp({
        databaseUrl: service.config.database.url,
        smtpUrl: inbox.smtpUrl,
        env: { CORS_ORIGINS: 'https://app.voyages.test, https://admin.voyages.test', RUN_MODE: 'api' },
      });
      try {
        const allowed = await request(other.url)
          .options('/v1/mails')
          .set('Origin', 'https://app.voyages.test')
          .set('Access-Control-Request-Method', 'POST')
          .set('Access-Control-Request-Headers', 'content-type, idempotency-key')
          .expect(204);
        expect(allowed.headers['access-control-allow-origin']).toBe('https://app.voyages.test');
        expect(allowed.headers['access-control-allow-headers']).toMatch(/Idempotency-Key/i);
        const simple = await request(other.url)
          .get('/v1/templates')
          .set('Origin', 'https://admin.voyages.test')
          .expect(200);
        expect(simple.headers['access-control-allow-origin']).toBe('https://admin.voyages.test');
        expect(simple.headers['access-control-expose-headers']).toMatch(/X-Correlation-ID/i);
        const refused = await request(other.url).get('/v1/templates').set('Origin', 'https://evil.test');
        expect(refused.headers['access-control-allow-origin']).toBeUndefined();
      } finally {
        await other.close();
      }
    });
  });

  it('sends Strict-Transport-Security in production', async () => {
    // API_KEYS: production refuses to start without a way to authenticate; /health stays open.
    const production = await startApp({
      databaseUrl: service.config.database.url,
      smtpUrl: inbox.smtpUrl,
      env: { NODE_ENV: 'production', RUN_MODE: 'api', API_KEYS: 'tests:k3y-for-the-hsts-test-0123456789abcdef' },
    });
    try {
      const res = await request(production.url).get('/health').expect(200);
      expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    } finally {
      await production.close();
    }
  });

  describe('timeouts', () => {
    it('bounds requests, headers, idle and keep-alive connections by REQUEST_TIMEOUT_SECONDS', () => {
      const server = service.app.getHttpServer() as import('node:http').Server;
      expect(server.requestTimeout).toBe(30_000);
      expect(server.headersTimeout).toBe(30_000);
      expect(server.keepAliveTimeout).toBe(30_000);
      expect(server.timeout).toBe(30_000);
    });

    it('answers a client that trickles its headers (slowloris) with 408 REQUEST_TIMEOUT and closes it', async () => {
      const quick = await startApp({
        databaseUrl: service.config.database.url,
        smtpUrl: inbox.smtpUrl,
        env: { REQUEST_TIMEOUT_SECONDS: '1', RUN_MODE: 'api' },
      });
      try {
        const socket = connect(Number(new URL(quick.url).port), '127.0.0.1');
        socket.setEncoding('latin1');
        let received = '';
        socket.on('data', (chunk: string) => (received += chunk));
        socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n');
        // A header line every 200 ms: never idle long enough for the idle timeout, never done.
        const trickle = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 200);
        await new Promise<void>((resolve) => socket.on('close', () => resolve()));
        clearInterval(trickle);
        const [head, body] = received.split('\r\n\r\n');
        expect(head).toMatch(/^HTTP\/1\.1 408 /);
        expect(JSON.parse(body)).toMatchObject({ name: 'REQUEST_TIMEOUT', links: [] });
      } finally {
        await quick.close();
      }
    }, 30_000);

    it('closes a connection that sends nothing', async () => {
      const quick = await startApp({
        databaseUrl: service.config.database.url,
        smtpUrl: inbox.smtpUrl,
        env: { REQUEST_TIMEOUT_SECONDS: '1', RUN_MODE: 'api' },
      });
      try {
        const socket = connect(Number(new URL(quick.url).port), '127.0.0.1');
        socket.write('GET /health HTTP/1.1\r\nHost: local'); // and then nothing more
        // Read what the server says (a socket whose data is never read never sees the server's close).
        let answer = '';
        socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
        await new Promise<void>((resolve) => socket.on('close', () => resolve()));
        // Closed silently by the idle timeout, or after a 408 in the error body by the headers timeout.
        if (answer) expect(answer).toMatch(/^HTTP\/1\.1 408 [\s\S]*"name":"REQUEST_TIMEOUT"/);
      } finally {
        await quick.close();
      }
    }, 30_000);
  });
});
