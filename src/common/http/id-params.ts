import { Injectable, Param, PipeTransform } from '@nestjs/common';
import { ApiError } from '../errors/api-error';
import { textProblem } from '../validation/text-input';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An id the service generated: anything that is not a UUID cannot exist, so it is a 404. */
@Injectable()
export class UuidOr404Pipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!UUID.test(value)) throw new ApiError('RESOURCE_NOT_FOUND', 'The resource does not exist.');
    return value.toLowerCase();
  }
}

/** An id chosen by another service (a user id): any text of 1 to 255 characters that passes the text rule. */
@Injectable()
export class TextIdPipe implements PipeTransform<string, string> {
  constructor(private readonly name: string) {}

  transform(value: string): string {
    if (value.length < 1 || value.length > 255 || textProblem(value)) {
      throw ApiError.validation([
        {
          field: this.name,
          value: value.slice(0, 50),
          location: 'path',
          issue: 'must be 1 to 255 characters without control characters',
        },
      ]);
    }
    return value;
  }
}

export const UuidParam = (name: string): ParameterDecorator => Param(name, UuidOr404Pipe);
export const TextIdParam = (name: string): ParameterDecorator => Param(name, new TextIdPipe(name));
