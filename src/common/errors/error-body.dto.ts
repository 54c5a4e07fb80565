import { ApiProperty } from '@nestjs/swagger';
import { LinkDto } from '../links/link.dto';
import { ERROR_STATUS, ErrorLocation, ErrorName } from './api-error';

// Listed in full: the Swagger plugin writes a union's values in the order the compiler happened to meet them.
const LOCATIONS = ['body', 'query', 'path', 'header'] as const satisfies readonly ErrorLocation[];

export class ErrorDetailDto {
  /** The field, query parameter, path parameter or header at fault. */
  field: string;
  /** The value received, as text. */
  value?: string;
  /** Where the value was read. */
  @ApiProperty({ enum: LOCATIONS, required: false })
  location?: ErrorLocation;
  /** What is wrong with it. */
  issue: string;
}

/** The error body of every failure. */
export class ErrorBodyDto {
  /** What went wrong: one of the error names of the contract, each explained at `/docs/errors`. */
  @ApiProperty({ enum: Object.keys(ERROR_STATUS), enumName: 'ErrorName', example: 'VALIDATION_ERROR' })
  name: ErrorName;
  /** The correlation id of the request, to quote when reporting the problem. */
  debug_id: string;
  /** @example The request is not valid. */
  message: string;
  /** Where this error is explained. */
  information_link: string;
  details: ErrorDetailDto[];
  links: LinkDto[];
}
