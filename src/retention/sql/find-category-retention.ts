/** The days set for one category (`$1`); no row: the category keeps MAIL_RETENTION_DAYS. */
export const FIND_CATEGORY_RETENTION = `SELECT days FROM category_retention WHERE category = $1`;
