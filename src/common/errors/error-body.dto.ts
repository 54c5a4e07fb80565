import { LinkDto } from '../links/link.dto';

export class ErrorDetailDto {
  /** The field, query parameter, path parameter or header at fault. */
  field: string;
  /** The value received, as text. */
  value?: string;
  /** Where the value was read. */
  location?: 'body' | 'query' | 'path' | 'header';
  /** What is wrong with it. */
  issue: string;
}

/** The error body of every failure. */
export class ErrorBodyDto {
  /** @example VALIDATION_ERROR */
  name: string;
  /** The correlation id of the request, to quote when reporting the problem. */
  debug_id: string;
  /** @example The request is not valid. */
  message: string;
  /** Where this error is explained. */
  information_link: string;
  details: ErrorDetailDto[];
  links: LinkDto[];
}
