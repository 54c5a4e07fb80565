/** Sets the days of one category (`$1`, `$2`), whether or not it had a row; answers the days stored. */
export const SET_CATEGORY_RETENTION = `
  INSERT INTO category_retention (category, days) VALUES ($1, $2)
  ON CONFLICT (category) DO UPDATE SET days = EXCLUDED.days, updated_at = now()
  RETURNING days`;
