import { DataSource } from 'typeorm';
import { loadConfig } from '../config/app.config';
import { dataSourceOptions } from './data-source.options';

/** For the TypeORM CLI (`npm run migration:generate`): the same options as the app. */
const config = loadConfig(process.env);
export default new DataSource(dataSourceOptions(config.database.url));
