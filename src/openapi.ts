import { ExecutionContext, INestApplication, Type } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants';
import { MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import { DocumentBuilder, getSchemaPath, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type {
  OperationObject,
  ResponseObject,
  SecurityRequirementObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { BEARER_SCHEME, routeAccess } from './auth/access.decorator';
import { ErrorBodyDto } from './common/errors/error-body.dto';
import { LIVE_EVENTS } from './conversations/dto/live.dto';
import { describeContract } from './openapi-contract';

/** The OpenAPI document served at /docs-json and committed as openapi/communication.yaml. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('communication')
    .setDescription(
      'Transactional e-mails, contact-us threads and customer/agent conversations of the travel-booking platform. ' +
        'Every response carries `X-Correlation-ID`; every error has the body of the `ErrorBody` schema.',
    )
    .setVersion('1.0.0')
    .addGlobalParameters({
      name: CORRELATION,
      in: 'header',
      required: false,
      description:
        'Correlation id (1–128 of [A-Za-z0-9._:-]); generated when absent or malformed, echoed in the response.',
      schema: { type: 'string' },
    })
    .addGlobalResponse({
      status: 'default',
      description: 'An error, in the error body of the contract.',
      type: ErrorBodyDto,
    })
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'API key or JWT',
        description:
          'Services: an API key of API_KEYS. People: a JWT of the configured issuer (`sub` the user id, `roles` customer, agent or admin, `establishments` for agents). ' +
          'Not checked when the service runs with AUTH_MODE=off.',
      },
      BEARER_SCHEME,
    )
    // Every operation needs a key or a token unless it says otherwise (@Public, @Probe), as the guard does.
    .addSecurityRequirements(BEARER_SCHEME)
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    extraModels: [ErrorBodyDto, ...Object.values(LIVE_EVENTS)],
    operationIdFactory: operationId,
  });
  describeLiveEvents(document);
  describeRouteSecurity(app, document);
  describeAccessAnswers(document);
  describeContract(document);
  return document;
}

const operationId = (controllerKey: string, methodKey: string): string =>
  `${controllerKey.replace(/Controller$/, '')}_${methodKey}`;

/**
 * Each operation's security, read from the access the auth guard reads (`routeAccess`, from @Access,
 * @Public and @Probe): a probe takes no token (`security: []`, so clients and proxies send none), a
 * public operation takes one optionally, any other one requires it (the document's default).
 */
function describeRouteSecurity(app: INestApplication, document: OpenAPIObject): void {
  const reflector = app.get(Reflector);
  const scanner = new MetadataScanner();
  const operations = new Map<string, OperationObject>();
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item) as OperationObject[])
      if (operation?.operationId) operations.set(operation.operationId, operation);
  }
  for (const module of app.get(ModulesContainer).values()) {
    for (const { metatype } of module.controllers.values()) {
      const controller = metatype as Type | null;
      if (!controller) continue;
      for (const method of scanner.getAllMethodNames(controller.prototype)) {
        const handler = controller.prototype[method] as (...args: unknown[]) => unknown;
        const operation = operations.get(operationId(controller.name, method));
        if (!operation || Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
        const access = routeAccess(reflector, {
          getHandler: () => handler,
          getClass: () => controller,
        } as unknown as ExecutionContext);
        const security: SecurityRequirementObject[] | undefined = access.probe
          ? []
          : access.callers === 'anyone'
            ? [{}, { [BEARER_SCHEME]: [] }]
            : undefined;
        if (security) operation.security = security;
        else delete operation.security;
      }
    }
  }
}

/**
 * The events of the Server-Sent Events streams, one schema per event name (live.dto.ts), joined in
 * `LiveEventDto` by their `event` so a typed client narrows `data` by the name.
 */
function describeLiveEvents(document: OpenAPIObject): void {
  const mapping = Object.fromEntries(Object.entries(LIVE_EVENTS).map(([name, dto]) => [name, getSchemaPath(dto)]));
  document.components!.schemas!.LiveEventDto = {
    description:
      'An event of `GET /v1/conversations/{conversationId}/events` and `GET /v1/participants/{participantId}/events`: its `id`, its name (`event`) and its `data` (JSON), by name.',
    oneOf: Object.values(mapping).map(($ref) => ({ $ref })),
    discriminator: { propertyName: 'event', mapping },
  };
  // The streams' text carries these events (OpenAPI 3.1 has no item schema for a stream).
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item) as OperationObject[]) {
      for (const response of Object.values(operation?.responses ?? {}) as ResponseObject[]) {
        const stream = response.content?.['text/event-stream']?.schema as Record<string, unknown> | undefined;
        if (stream) stream.contentSchema = { $ref: getSchemaPath('LiveEventDto') };
      }
    }
  }
}

/**
 * The answers the auth and rate-limit guards and the policies add to an operation, read from its
 * security: one that takes a token may answer 401 and 403, and is rate limited (429); the probes
 * (open, taking no token) answer none of them. Each is described once under components.responses.
 */
function describeAccessAnswers(document: OpenAPIObject): void {
  const error = (description: string, headers: ResponseObject['headers'] = {}): ResponseObject => ({
    description,
    headers,
    content: { 'application/json': { schema: { $ref: getSchemaPath(ErrorBodyDto) } } },
  });
  const integer = (description: string) => ({ description, schema: { type: 'integer' as const } });
  const rateLimitHeaders = {
    'RateLimit-Limit': integer('Requests allowed per window (RATE_LIMIT_PER_MINUTE); sent on every answer'),
    'RateLimit-Remaining': integer('Requests left in the window'),
    'RateLimit-Reset': integer('Seconds until the window resets'),
  };
  const answers: Record<string, ResponseObject> = {
    '401': error(
      'No valid API key or token (`UNAUTHORIZED`); an open operation answers it only to a token that is not valid.',
      {
        'WWW-Authenticate': { description: 'The Bearer challenge', schema: { type: 'string' } },
      },
    ),
    '403': error('The caller may not do this (`FORBIDDEN`).'),
    '429': error('Over a rate limit (`TOO_MANY_REQUESTS`).', {
      'Retry-After': integer('Seconds to wait before retrying'),
      ...rateLimitHeaders,
    }),
  };
  const names: Record<string, string> = { '401': 'Unauthorized', '403': 'Forbidden', '429': 'TooManyRequests' };
  document.components ??= {};
  document.components.responses ??= {};
  for (const [status, response] of Object.entries(answers)) document.components.responses[names[status]] = response;
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item) as OperationObject[]) {
      if (!operation || typeof operation !== 'object' || !('responses' in operation)) continue;
      const security = operation.security ?? document.security ?? [];
      if (!security.some((requirement) => BEARER_SCHEME in requirement)) continue;
      for (const status of Object.keys(answers))
        operation.responses[status] = { $ref: `#/components/responses/${names[status]}` };
    }
  }
}

const CORRELATION = 'X-Correlation-ID';
