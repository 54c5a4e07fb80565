import { ApiError } from '../errors/api-error';

/** Where a page of a newest-first list ended: the sort key of its last row. */
export interface KeysetCursor {
  /** Microseconds since the epoch (Postgres keeps timestamps to the microsecond; a JS Date would round them). */
  createdAtMicros: string;
  id: string;
}

const FORMAT = /^(\d{1,17})_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

export function encodeCursor(cursor: KeysetCursor): string {
  return Buffer.from(`${cursor.createdAtMicros}_${cursor.id}`).toString('base64url');
}

/** The cursor of a `next` link; 400 when it was not made by this service. */
export function decodeCursor(value: string): KeysetCursor {
  const match = FORMAT.exec(Buffer.from(value, 'base64url').toString('utf8'));
  if (!match)
    throw ApiError.validation([
      {
        field: 'cursor',
        location: 'query',
        value: value.slice(0, 50),
        issue: 'must be the cursor of a next link, as given',
      },
    ]);
  return { createdAtMicros: match[1], id: match[2] };
}
