import { BadRequestException, HttpException, NotFoundException } from '@nestjs/common';
import { ApiError } from './api-error';
import { toErrorResponse } from './error-body.factory';

describe('toErrorResponse', () => {
  const base = 'https://communication.example';

  it('turns an unexpected error into a 500 without its message or stack', () => {
    const response = toErrorResponse(new Error('password=hunter2 at db.ts:12'), 'corr-1', base);
    expect(response.status).toBe(500);
    expect(response.unexpected).toBe(true);
    expect(response.body).toEqual({
      name: 'INTERNAL_SERVER_ERROR',
      debug_id: 'corr-1',
      message: 'An unexpected error occurred.',
      information_link: `${base}/docs/errors#INTERNAL_SERVER_ERROR`,
      details: [],
      links: [],
    });
    expect(JSON.stringify(response.body)).not.toContain('hunter2');
  });

  it('keeps the name, details and headers of an ApiError', () => {
    const error = new ApiError('TOO_MANY_REQUESTS', undefined, [], { 'retry-after': '3' });
    const response = toErrorResponse(error, 'corr-2', base);
    expect(response.status).toBe(429);
    expect(response.headers).toEqual({ 'retry-after': '3' });
    expect(response.body.name).toBe('TOO_MANY_REQUESTS');
  });

  it('maps Fastify body errors by code and Nest exceptions by status', () => {
    const tooLarge = Object.assign(new Error('Request body is too large'), {
      code: 'FST_ERR_CTP_BODY_TOO_LARGE',
      statusCode: 413,
    });
    expect(toErrorResponse(tooLarge, 'c', base)).toMatchObject({ status: 413, body: { name: 'PAYLOAD_TOO_LARGE' } });
    expect(toErrorResponse(new NotFoundException(), 'c', base)).toMatchObject({
      status: 404,
      body: { name: 'RESOURCE_NOT_FOUND' },
    });
    expect(toErrorResponse(new BadRequestException('Unexpected end of JSON input'), 'c', base)).toMatchObject({
      status: 400,
      body: {
        name: 'MALFORMED_REQUEST',
        details: [{ field: 'body', location: 'body', issue: 'Unexpected end of JSON input' }],
      },
    });
  });

  it('names what Fastify refuses before routing: long URLs, bad encoding, other media types', () => {
    const longParam = Object.assign(new Error("'/v1/x' is exceeding the max param length"), {
      code: 'FST_ERR_MAX_PARAM_LENGTH',
      statusCode: 414,
    });
    expect(toErrorResponse(longParam, 'c', base)).toMatchObject({ status: 414, body: { name: 'URI_TOO_LONG' } });
    const badUrl = Object.assign(new Error("'/%E0%A4%A' is not a valid url component"), {
      code: 'FST_ERR_BAD_URL',
      statusCode: 400,
    });
    expect(toErrorResponse(badUrl, 'c', base)).toMatchObject({ status: 400, body: { name: 'MALFORMED_REQUEST' } });
    expect(toErrorResponse(new HttpException('Unsupported Media Type', 415), 'c', base)).toMatchObject({
      status: 415,
      body: { name: 'UNSUPPORTED_MEDIA_TYPE', details: [{ field: 'Content-Type', location: 'header' }] },
    });
    expect(toErrorResponse(new HttpException('Request Header Fields Too Large', 431), 'c', base)).toMatchObject({
      status: 431,
      body: { name: 'HEADERS_TOO_LARGE' },
    });
  });
});
