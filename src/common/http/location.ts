import { HttpStatus } from '@nestjs/common';
import { LinkDto } from '../links/link.dto';

/** The `Location` of a 201/202 answer: the `self` link of what it created, built by its mapper. */
export function locationOf(statusCode: number, body: unknown): string | undefined {
  if (statusCode !== HttpStatus.CREATED && statusCode !== HttpStatus.ACCEPTED) return undefined;
  return (body as { links?: LinkDto[] } | undefined)?.links?.find((link) => link.rel === 'self')?.href;
}
