import type { OpenAPIObject } from '@nestjs/swagger';
import type {
  HeaderObject,
  OperationObject,
  ParameterObject,
  ReferenceObject,
  RequestBodyObject,
  ResponseObject,
  SchemaObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { MAX_BATCH_SIZE } from './mails/mails.service';

/**
 * What the decorators cannot say, added once to the generated document so it is the exact contract
 * (docs/CONTRACT.md, "Conventions"): every status an operation can answer with the error body, the
 * headers of every answer, formats of ids, dates and addresses, real nullability (OpenAPI 3.1, where
 * `null` is a type), servers and tags. Rules follow the shape of each operation, the way the global
 * pipes, guards, filter and interceptors apply them, so a new endpoint is described without more code.
 */
export function describeContract(document: OpenAPIObject): void {
  document.openapi = '3.1.0';
  document.info.license = {
    name: 'UNLICENSED (private)',
    identifier: 'UNLICENSED',
  } as OpenAPIObject['info']['license'];
  // Relative: the service that serves this document (its /docs-json) is the server. Plain text: Swagger UI shows it as written.
  document.servers = [
    { url: '/', description: 'The service serving this document (http://localhost:3000 with npm start)' },
  ];
  const used = new Set(
    Object.values(document.paths).flatMap((item) =>
      Object.values(item).flatMap((operation: OperationObject) => operation?.tags ?? []),
    ),
  );
  document.tags = [...used].map((name) => ({ name, description: TAG_DESCRIPTIONS[name] ?? '' }));
  const components = (document.components ??= {});
  components.headers = { ...components.headers, ...HEADERS };
  components.responses = { ...components.responses, ...errorResponses() };
  components.parameters = { ...components.parameters, IdempotencyKey: IDEMPOTENCY_KEY };

  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item) as [string, OperationObject][]) {
      if (!operation || typeof operation !== 'object' || !('responses' in operation)) continue;
      describeOperation(path, method, operation, document);
    }
  }
  for (const [name, schema] of Object.entries(components.schemas ?? {})) addFormats(name, schema as SchemaObject);
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item) as OperationObject[]) {
      if (!operation || typeof operation !== 'object' || !('responses' in operation)) continue;
      for (const parameter of (operation.parameters ?? []) as ParameterObject[]) {
        const schema = parameter.schema as SchemaObject | undefined;
        if (schema?.type === 'string' && !schema.format && INSTANT.test(parameter.name)) schema.format = 'date-time';
      }
      describeRequestBody(operation, components.schemas as Record<string, SchemaObject>);
    }
  }
  toOpenApi31(document);
}

const TAG_DESCRIPTIONS: Record<string, string> = {
  mails: 'Mail events: one mail per event, one delivery per receiver, sent over SMTP asynchronously and durably.',
  templates: 'The mail categories: the ids each requires, the variables each declares, previews.',
  recipients:
    'The recipient directory: who a receiver id is (address, name, locale), and their consent to SUBSCRIPTION mails.',
  unsubscribe:
    'One-click unsubscribe (RFC 8058): the page a SUBSCRIPTION mail links to and the POST that unsubscribes; the token is the credential.',
  suppressions: 'Addresses no mail is sent to (hard bounces, complaints, or added by hand).',
  retention:
    "How long each category's mails keep their personal data before the maintenance job purges them (0: for ever).",
  inbound:
    'What comes back from the mail world: bounces, delay reports, complaints, auto-replies and replies, and what each became.',
  files:
    'Uploaded files (PDF, PNG, JPEG, iCalendar, plain text; at most FILE_MAX_BYTES), checked from their bytes and stored once per SHA-256.',
  contacts: 'Contact-us threads between visitors and the support team.',
  conversations:
    'Conversations between a customer and the agents of an establishment, their messages, read markers, timelines and event streams.',
  webhooks: 'Endpoints that receive signed calls when something happens (Standard Webhooks).',
  operations: 'Health probes and Prometheus metrics.',
};

const integer = (description: string): HeaderObject => ({ description, schema: { type: 'integer' } });
const HEADERS: Record<string, HeaderObject> = {
  'X-Correlation-ID': {
    description: 'The correlation id of the request (the one sent, else a generated UUID); the `debug_id` of an error.',
    schema: { type: 'string' },
  },
  Location: {
    description: 'Absolute URL of what the request created or accepted (its `self` link).',
    schema: { type: 'string', format: 'uri' },
  },
  ETag: { description: 'Version of the resource, for `If-Match`.', schema: { type: 'string' } },
  'Retry-After': integer('Seconds to wait before trying again.'),
  'Idempotent-Replayed': {
    description: '`true` when this is the stored answer of an earlier request with the same `Idempotency-Key`.',
    schema: { type: 'string', enum: ['true'] },
  },
  'RateLimit-Limit': integer('Requests allowed per window (RATE_LIMIT_PER_MINUTE).'),
  'RateLimit-Remaining': integer('Requests left in the window.'),
  'RateLimit-Reset': integer('Seconds until the window resets.'),
};
const ref = (name: string): ReferenceObject => ({ $ref: `#/components/headers/${name}` });

const IDEMPOTENCY_KEY: ParameterObject = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Same key and body within 24 h: the first answer is replayed (`Idempotent-Replayed: true`) and nothing is created again; same key, other body: 422.',
  schema: { type: 'string', minLength: 1, maxLength: 255 },
};

const ERRORS: Record<string, [string, string, string[]?]> = {
  '400': [
    'BadRequest',
    '`VALIDATION_ERROR` (one `details` entry per problem) or `MALFORMED_REQUEST` (unparseable JSON).',
  ],
  '404': ['NotFound', '`RESOURCE_NOT_FOUND`: unknown id, an id that is not a UUID, or a resource of another person.'],
  '409': [
    'Conflict',
    '`CONFLICT`: not allowed in the current state, or a request with the same `Idempotency-Key` is still running.',
  ],
  '412': ['PreconditionFailed', '`PRECONDITION_FAILED`: `If-Match` does not match the current `ETag`.'],
  '413': ['PayloadTooLarge', '`PAYLOAD_TOO_LARGE`: a body over 1 MB.'],
  '415': ['UnsupportedMediaType', '`UNSUPPORTED_MEDIA_TYPE`: the body is not `application/json`.'],
  '422': ['IdempotencyKeyReused', '`IDEMPOTENCY_KEY_REUSED`: this `Idempotency-Key` came with another body.'],
  '500': ['InternalServerError', '`INTERNAL_SERVER_ERROR`: unexpected; look the `debug_id` up in the logs.'],
  '503': ['ServiceUnavailable', '`SERVICE_UNAVAILABLE`: the database cannot be reached.', ['Retry-After']],
};

function errorResponses(): Record<string, ResponseObject> {
  return Object.fromEntries(
    Object.values(ERRORS).map(([name, description, headers = []]) => [
      name,
      {
        description,
        headers: Object.fromEntries(['X-Correlation-ID', ...headers].map((h) => [h, ref(h)])),
        content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBodyDto' } } },
      },
    ]),
  );
}

function describeOperation(path: string, method: string, operation: OperationObject, document: OpenAPIObject): void {
  // A header read with @Headers() is listed again under its lower-case name, required: keep the documented one.
  const headers = ((operation.parameters ?? []) as ParameterObject[]).filter((p) => 'in' in p && p.in === 'header');
  operation.parameters = ((operation.parameters ?? []) as ParameterObject[]).filter(
    (p) =>
      !('in' in p) ||
      p.in !== 'header' ||
      !headers.some(
        (other) =>
          other !== p &&
          other.name.toLowerCase() === p.name.toLowerCase() &&
          other.name !== p.name &&
          p.name === p.name.toLowerCase(),
      ),
  );
  const errors = new Set<string>(['500']);
  const probe = path === '/health';
  if (!probe && path !== '/health/ready') errors.add('503');
  const inputs = ((operation.parameters ?? []) as ParameterObject[]).some((p) => 'in' in p && p.in !== 'header');
  if (path.startsWith('/v1/') && (inputs || operation.requestBody || method === 'post')) errors.add('400');
  if (path.includes('{')) errors.add('404');
  if (operation.requestBody) ['413', '415'].forEach((s) => errors.add(s));
  if (method === 'post') {
    ['409', '422'].forEach((s) => errors.add(s));
    const parameters = (operation.parameters ??= []) as ParameterObject[];
    if (!parameters.some((p) => 'name' in p && p.name === 'Idempotency-Key'))
      parameters.push({ $ref: '#/components/parameters/IdempotencyKey' } as unknown as ParameterObject);
  }
  // State changes the contract refuses with 409: mails that already left, archived conversations, backward statuses.
  if (['patch', 'put', 'delete'].includes(method) && /^\/v1\/(mails|conversations)\//.test(path)) errors.add('409');
  if (
    ((operation.parameters ?? []) as ParameterObject[]).some((p) => 'name' in p && p.name.toLowerCase() === 'if-match')
  )
    errors.add('412');
  for (const status of errors)
    if (!operation.responses[status])
      operation.responses[status] = { $ref: `#/components/responses/${ERRORS[status][0]}` };

  const security = operation.security ?? document.security ?? [];
  const limited = security.some((requirement) => Object.keys(requirement).length > 0);
  for (const [status, response] of Object.entries(operation.responses)) {
    if (!response || '$ref' in response || !/^[23]/.test(status)) continue;
    const headers = (response.headers ??= {});
    headers['X-Correlation-ID'] ??= ref('X-Correlation-ID');
    if (status === '201' || status === '202') headers.Location ??= ref('Location');
    if (headers.ETag) headers.ETag = ref('ETag');
    if (method === 'post') headers['Idempotent-Replayed'] ??= ref('Idempotent-Replayed');
    if (limited)
      for (const name of ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset']) headers[name] ??= ref(name);
  }
}

/** Ids the service generates are UUIDs; dates are ISO 8601 date-times; addresses are e-mail addresses. */
const UUID_FIELDS: Record<string, string[]> = {
  MailDto: ['id'],
  ContactDto: ['id', 'conversationId'],
  ConversationDto: ['id'],
  MessageDto: ['id', 'conversationId'],
};
const EMAIL_FIELDS: Record<string, string[]> = { RecipientDto: ['email'], ContactDto: ['mail'] };

/** Names of instants: `createdAt`, `sendingDate`, `failingSince`, a timeline entry's `at`, the `from`/`until` filters. */
const INSTANT = /(At|Date|Since|Until)$|^(at|from|until)$/;

function addFormats(name: string, schema: SchemaObject): void {
  for (const [field, property] of Object.entries(schema.properties ?? {}) as [string, SchemaObject][]) {
    if (property.type !== 'string' || property.format) continue;
    if (INSTANT.test(field)) property.format = 'date-time';
    else if (UUID_FIELDS[name]?.includes(field)) property.format = 'uuid';
    else if (EMAIL_FIELDS[name]?.includes(field)) property.format = 'email';
  }
}

/**
 * Bodies read item by item: the handler takes an array and judges each element on its own (the
 * answer gives each one's status), so one bad item does not make the request invalid; items typed
 * as the DTO would make it invalid by the document.
 */
const ITEM_BY_ITEM: Record<string, { dto: string; maxItems: number; description: string }> = {
  Mails_createBatch: {
    dto: 'CreateMailDto',
    maxItems: MAX_BATCH_SIZE,
    description: `1 to ${MAX_BATCH_SIZE} mail events, each a \`CreateMailDto\`, validated on its own: the answer gives each one 202 and the mail, or 400 and the error.`,
  },
};

/**
 * The example of a JSON request body, which Swagger UI pre-fills: the properties of its schema that
 * declare an `example`, and only those. Built from the whole schema, Swagger UI would fill every
 * optional field too (`"publicationId": "string"`, a reply to a thread that does not exist), and the
 * request would be refused. Every example is posted to the service by test/openapi-document.e2e-spec.ts.
 */
function describeRequestBody(operation: OperationObject, schemas: Record<string, SchemaObject>): void {
  const media = (operation.requestBody as RequestBodyObject | undefined)?.content?.['application/json'];
  if (!media?.schema) return;
  const exampleOf = (ref: string): Record<string, unknown> | undefined => {
    const schema = schemas[ref.replace('#/components/schemas/', '')];
    if (!schema?.properties) return undefined;
    const fields = Object.entries(schema.properties as Record<string, SchemaObject>).filter(
      ([, property]) => property.example !== undefined && !property.readOnly,
    );
    return Object.fromEntries(fields.map(([name, property]) => [name, property.example]));
  };
  const itemByItem = ITEM_BY_ITEM[operation.operationId ?? ''];
  if (itemByItem) {
    const example = exampleOf(`#/components/schemas/${itemByItem.dto}`);
    media.schema = {
      type: 'array',
      minItems: 1,
      maxItems: itemByItem.maxItems,
      description: itemByItem.description,
      items: { type: 'object', additionalProperties: true, description: `A \`${itemByItem.dto}\`, judged alone.` },
    };
    if (example) media.example = [example];
    return;
  }
  if ('$ref' in media.schema && media.example === undefined && !media.examples) {
    const example = exampleOf(media.schema.$ref);
    if (example) media.example = example;
  }
}

/**
 * OpenAPI 3.1: `null` is a JSON Schema type. The generator writes 3.0's `nullable: true`, which
 * tools read differently beside `allOf`/`$ref` (a `lastMessage: null` then fails its own schema):
 * each one becomes `type: [t, 'null']`, or `oneOf: [schema, {type: 'null'}]` around a reference.
 */
function toOpenApi31(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(toOpenApi31);
  if (typeof node !== 'object' || node === null) return;
  const schema = node as Record<string, unknown>;
  for (const value of Object.values(schema)) toOpenApi31(value);
  if (schema.nullable !== true) {
    delete schema.nullable;
    return;
  }
  delete schema.nullable;
  if (schema.allOf || schema.$ref || schema.oneOf) {
    const { description, readOnly, example, type: _type, ...inner } = schema;
    for (const key of Object.keys(schema)) delete schema[key];
    const wrapped =
      (inner.allOf as unknown[] | undefined)?.length === 1 && Object.keys(inner).length === 1
        ? (inner.allOf as unknown[])[0]
        : inner;
    Object.assign(
      schema,
      { oneOf: [wrapped, { type: 'null' }] },
      description ? { description } : {},
      readOnly ? { readOnly } : {},
      example !== undefined ? { example } : {},
    );
  } else if (typeof schema.type === 'string') {
    schema.type = [schema.type, 'null'];
    if (Array.isArray(schema.enum) && !schema.enum.includes(null)) schema.enum = [...schema.enum, null];
  }
}
