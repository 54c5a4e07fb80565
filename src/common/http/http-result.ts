/**
 * What a controller returns when the status or headers depend on the outcome (201 vs 200, an
 * ETag), so controllers never touch the reply object. The body is sent as is.
 */
export class HttpResult<T> {
  constructor(
    readonly body: T,
    readonly status: number,
    readonly headers: Record<string, string> = {},
  ) {}
}
