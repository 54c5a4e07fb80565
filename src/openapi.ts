import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ErrorBodyDto } from './common/errors/error-body.dto';

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
      description: 'Correlation id (1–128 of [A-Za-z0-9._:-]); generated when absent or malformed, echoed in the response.',
      schema: { type: 'string' },
    })
    .addGlobalResponse({ status: 'default', description: 'An error, in the error body of the contract.', type: ErrorBodyDto })
    .build();
  return SwaggerModule.createDocument(app, config, {
    extraModels: [ErrorBodyDto],
    operationIdFactory: (controllerKey, methodKey) => `${controllerKey.replace(/Controller$/, '')}_${methodKey}`,
  });
}

const CORRELATION = 'X-Correlation-ID';
